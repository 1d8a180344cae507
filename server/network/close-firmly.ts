/**
 * Closing a socket from the server's side without trusting the peer to finish the close:
 * the close frame goes first (the client learns the code and reason), and a peer that does
 * not answer it within CLOSE_GRACE_MS is terminated — ws alone would keep the socket, and
 * everything queued to it, for 30 s.
 */
import type { WebSocket } from "ws";
import { runGuarded } from "./guard.ts";

const CLOSE_GRACE_MS = 5_000;

export function closeFirmly(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
  if (ws.readyState === ws.CLOSED) return;
  const timer = setTimeout(() => runGuarded(() => ws.terminate()), CLOSE_GRACE_MS);
  timer.unref();
  ws.once("close", () => clearTimeout(timer));
}

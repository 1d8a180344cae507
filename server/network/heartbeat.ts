/**
 * The server's side of the heartbeat: every `heartbeatMs` it sends a socket a WebSocket
 * ping (browsers and `ws` answer with a pong on their own), and a socket from which nothing
 * came — no pong, no frame — for `deadAfterMs` is terminated. A link that died silently (a
 * proxy that stops forwarding but keeps the TCP connection open, a laptop that slept) would
 * otherwise hold its socket, channels and queued frames for ever. Terminated, not closed: a
 * close handshake would wait for a peer that is gone.
 */
import type { WebSocket } from "ws";

export interface HeartbeatLimits {
  /** How often the server pings an idle socket, in ms; 0 turns the heartbeat off. */
  readonly heartbeatMs: number;
  /** Silence after which a socket is terminated, in ms (not a positive number: three heartbeats). */
  readonly deadAfterMs: number;
}

/**
 * Watches `socket`; `dead()` runs once when it is terminated for silence. `reading()` says
 * whether the server reads the socket now: while it holds reading (rate limit, a full
 * channel) pongs wait unread, and that silence is the server's own. Returns the stop function.
 */
export function watchHeartbeat(socket: WebSocket, limits: HeartbeatLimits, dead: () => void, reading: () => boolean = () => true): () => void {
  if (!(limits.heartbeatMs > 0)) return () => undefined;
  const deadAfterMs = limits.deadAfterMs > 0 ? limits.deadAfterMs : 3 * limits.heartbeatMs;
  let lastHeard = Date.now();
  const heard = (): void => {
    lastHeard = Date.now();
  };
  socket.on("pong", heard);
  socket.on("message", heard);
  const timer = setInterval(() => {
    try {
      if (socket.readyState !== socket.OPEN) return;
      if (!reading()) {
        lastHeard = Date.now();
        return;
      }
      if (Date.now() - lastHeard >= deadAfterMs) {
        stop();
        socket.terminate();
        dead();
        return;
      }
      socket.ping();
    } catch {
      // a socket that fails here is closing already: its close event ends the session
    }
  }, Math.min(limits.heartbeatMs, deadAfterMs));
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    socket.off("pong", heard);
    socket.off("message", heard);
  };
  return stop;
}

/**
 * A hostile socket that never reads: it greets, subscribes to one actor on `channels`
 * channels, and stops reading its TCP socket before the first answer — so everything the
 * server sends it piles up in the server's buffers. Each subscription carries a state
 * vector naming a client the actor never saw: the server must encode the whole document
 * for it anew (a subscription with no state at all would get a shared, cached encoding).
 * `destroy()` drops it from this side.
 */
import type { Socket } from "node:net";
import * as encoding from "lib0/encoding";
import WebSocket from "ws";
import { Kind, PROTOCOL_VERSION, encodeUp } from "../../shared/protocol/index.ts";
import { connectUrl } from "./raw-socket.ts";

export class SlowReader {
  private constructor(private readonly ws: WebSocket) {
    ws.on("error", () => {});
  }

  /** Opens the socket, pauses its reading, then sends hello and `channels` subscribes to `name`/`key`. */
  static open(baseUrl: string, name: string, key: string, channels: number, clientId: string): Promise<SlowReader> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(connectUrl(baseUrl));
      const reader = new SlowReader(ws);
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error("slow reader: no upgrade within 5 s"));
      }, 5000);
      ws.once("open", () => {
        clearTimeout(timer);
        (ws as unknown as { _socket: Socket })._socket.pause();
        ws.send(encodeUp({ kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId }));
        for (let channel = 1; channel <= channels; channel++) {
          ws.send(encodeUp({ kind: Kind.subscribe, channel, name, target: { by: "key", mode: "get", key: [key] }, params: undefined, stateVector: unknownClient(channel) }));
        }
        resolve(reader);
      });
      ws.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  destroy(): void {
    this.ws.terminate();
  }
}

/** A state vector with one client the actor does not know, at clock 0. */
function unknownClient(n: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, 1_000_000_000 + n);
  encoding.writeVarUint(encoder, 0);
  return encoding.toUint8Array(encoder);
}

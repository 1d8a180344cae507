/**
 * Update fan-out of one actor to its subscribed channels. Updates committed in one
 * event-loop turn are merged (`Y.mergeUpdates`) and their frame body is encoded once for
 * every subscriber; only the 2–6 byte frame header (the channel number) differs per socket.
 * A channel does not get back its own changes: its action acks and edit results carry them.
 */
import * as encoding from "lib0/encoding";
import * as Y from "yjs";
import { Kind } from "../../shared/protocol/kinds.ts";
import { encodeFrame } from "../../shared/protocol/frame.ts";
import type { ConnImpl } from "../runtime/connection.ts";

export interface UpdateSubscriber {
  readonly conn: ConnImpl;
  readonly channel: number;
  sendFrame(frame: Uint8Array): void;
}

interface Pending {
  readonly update: Uint8Array;
  readonly origin: ConnImpl;
}

/** The body of a sync frame with a y-protocols update message, encoded once. */
function syncUpdateBody(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 2); // y-protocols messageYjsUpdate
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** `[kind][channel]` + a body encoded once. */
export function frameWithBody(kind: number, channel: number, body: Uint8Array): Uint8Array {
  const header = encodeFrame(kind, channel, () => {});
  const frame = new Uint8Array(header.length + body.length);
  frame.set(header, 0);
  frame.set(body, header.length);
  return frame;
}

export class Fanout {
  readonly subscribers = new Set<UpdateSubscriber>();
  private pending: Pending[] = [];
  private scheduled = false;

  /** Called by the actor after each durable commit. */
  readonly onUpdate = (update: Uint8Array, origin: ConnImpl): void => {
    if (this.subscribers.size === 0) return;
    this.pending.push({ update, origin });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  };

  /** Sends what is pending now (also called before a subscriber leaves). */
  readonly flush = (): void => {
    this.scheduled = false;
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    const merged = pending.length === 1 ? pending[0]!.update : Y.mergeUpdates(pending.map((p) => p.update));
    const body = syncUpdateBody(merged);
    const origins = new Set(pending.map((p) => p.origin));
    for (const subscriber of this.subscribers) {
      if (!origins.has(subscriber.conn)) {
        subscriber.sendFrame(frameWithBody(Kind.sync, subscriber.channel, body));
        continue;
      }
      const others = pending.filter((p) => p.origin !== subscriber.conn).map((p) => p.update);
      if (others.length === 0) continue;
      subscriber.sendFrame(frameWithBody(Kind.sync, subscriber.channel, syncUpdateBody(Y.mergeUpdates(others))));
    }
  };
}

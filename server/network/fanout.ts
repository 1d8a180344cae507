/**
 * Update fan-out of one actor to its subscribed channels. Updates committed in one
 * event-loop turn are merged (`Y.mergeUpdates`) and their frame body is encoded once for
 * every subscriber; only the 2–6 byte frame header (the channel number) differs per socket.
 * A channel does not get back a turn made only of its own changes (its acks and edit results
 * carry them); when others wrote in the same turn it gets the one merge, like everyone.
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
    const frame = (channel: number) => frameWithBody(Kind.sync, channel, body);
    // A channel whose own commits are all of this turn already has them (acks, edit results).
    // One that also has others' updates gets the whole merge: Yjs skips what it knows, and
    // one merge per turn beats one merge per writing subscriber (200 writers: 200 merges).
    const onlyFrom = pending.every((p) => p.origin === pending[0]!.origin) ? pending[0]!.origin : null;
    for (const subscriber of this.subscribers) {
      if (subscriber.conn === onlyFrom) continue;
      subscriber.sendFrame(frame(subscriber.channel));
    }
  };
}

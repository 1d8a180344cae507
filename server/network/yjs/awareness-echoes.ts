/**
 * A stock y-websocket provider sends back what it is told: it re-broadcasts every awareness
 * change it applies, its peers' included (y-websocket.js `_awarenessUpdateHandler`), and
 * removes a peer it has not heard from for 30 s with that peer's clock + 1. Presence
 * (presence.ts) refuses any state of a client id another connection owns, so these echoes
 * are dropped here, at the edge, before they become Tandem frames — the same whether the
 * channel is served on this node or relayed to the actor's owner. What the provider says
 * of another client's id *beyond* what it was told is passed on, and presence refuses it.
 */
import * as decoding from "lib0/decoding";
import { type AwarenessEntry, decodeAwarenessUpdate, encodeAwarenessUpdate } from "../../../shared/protocol/awareness-update.ts";

export class AwarenessEchoes {
  /** Per client id the peer was told about: the last clock it was told (oldest first). */
  private readonly told = new Map<number, number>();

  /** `max`: ids remembered (the oldest are forgotten first; presence holds at most this many states). */
  constructor(private readonly max: number) {}

  /** An awareness frame body (a varUint8Array holding an update) going to the peer. */
  sent(body: Uint8Array): void {
    let entries: AwarenessEntry[];
    try {
      entries = decodeAwarenessUpdate(decoding.readVarUint8Array(decoding.createDecoder(body)));
    } catch {
      return; // the server's own frames decode; nothing to remember otherwise
    }
    for (const { clientID, clock } of entries) {
      this.told.delete(clientID); // re-inserted last: the newest stay
      this.told.set(clientID, clock);
    }
    while (this.told.size > this.max) this.told.delete(this.told.keys().next().value!);
  }

  /** The peer's update without its echoes (null: nothing is left). One that does not decode goes on as is: presence refuses it. */
  strip(update: Uint8Array): Uint8Array | null {
    let entries: AwarenessEntry[];
    try {
      entries = decodeAwarenessUpdate(update);
    } catch {
      return update;
    }
    const kept = entries.filter(({ clientID, clock, json }) => {
      const told = this.told.get(clientID);
      return told === undefined || !(clock <= told || (json === "null" && clock === told + 1));
    });
    if (kept.length === entries.length) return update;
    return kept.length === 0 ? null : encodeAwarenessUpdate(kept);
  }
}

/**
 * Presence of one browser for one actor: however many tabs the user has open, the server
 * sees one awareness state (README.md "Local-first", many tabs). The leader tab keeps it: each tab's local
 * state (its own, and the followers' relayed over the BroadcastChannel) is remembered, and
 * the one that changed last is what the server shows — the tab the user is working in.
 * When that tab leaves, the most recent of the others takes its place. It goes out under
 * the leader tab's awareness client id, so a lone tab is seen as its own `awareness.clientID`.
 */
import { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

type State = Record<string, unknown>;

export class BrowserPresence {
  /** The awareness the server sees for this browser. */
  readonly outgoing: Awareness;
  private readonly tabs = new Map<string, { state: State | null; at: number }>();
  private clock = 0;

  /** `clientID`: the leader tab's own awareness id, so a lone tab is seen under its own id. */
  constructor(clientID: number) {
    const doc = new Y.Doc({ guid: "tandem-presence" }); // only its clientID is used: no random guid
    doc.clientID = clientID;
    this.outgoing = new Awareness(doc);
  }

  /** A tab's local state changed (null: it has none). */
  set(tab: string, state: State | null): void {
    this.tabs.set(tab, { state, at: ++this.clock });
    this.publish();
  }

  /** A tab left: the most recent state of the others is shown. */
  leave(tab: string): void {
    if (this.tabs.delete(tab)) this.publish();
  }

  get clientID(): number {
    return this.outgoing.clientID;
  }

  destroy(): void {
    this.outgoing.destroy();
  }

  private publish(): void {
    let latest: { state: State | null; at: number } | null = null;
    for (const entry of this.tabs.values()) if (entry.state !== null && (latest === null || entry.at > latest.at)) latest = entry;
    const state = latest?.state ?? null;
    if (state === null && this.outgoing.getLocalState() === null) return;
    this.outgoing.setLocalState(state);
  }
}

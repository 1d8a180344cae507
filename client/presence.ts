/**
 * Presence of one subscription: the awareness the app reads and sets (`conn.awareness`),
 * others' states as they arrive, and — in a leader (or lone) tab — the one presence this
 * browser shows the server (client/tabs/browser-presence.ts: each tab's local state, the
 * latest wins). Where this tab's local state goes is the upstream's choice (`sendLocal`).
 */
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from "y-protocols/awareness";
import * as Y from "yjs";
import { withoutClients } from "../shared/protocol/awareness-update.ts";
import { REMOTE } from "./replica.ts";
import { BrowserPresence } from "./tabs/browser-presence.ts";

type State = Record<string, unknown>;
type Change = { added: number[]; updated: number[]; removed: number[] };

export class Presence {
  /** Its doc only gives the awareness a clientID: a fixed guid spares a random uuid per connection. */
  readonly awareness = new Awareness(new Y.Doc({ guid: "tandem-awareness" }));
  /** Leader: the one presence this browser shows the server (null until it serves). */
  private browser: BrowserPresence | null = null;
  private sendLocal: ((state: State | null) => void) | null = null;

  constructor(private readonly tabId: string) {
    this.awareness.on("update", this.localListener);
  }

  /** From now on this tab's local state changes go to `send`. */
  routeLocal(send: (state: State | null) => void): void {
    this.sendLocal = send;
  }

  get localState(): State | null {
    return this.awareness.getLocalState();
  }

  /**
   * Leader: serve this browser's presence; `send` gets each change of it as an awareness
   * update. This tab's own state is the first (its local changes go there from now on).
   */
  serveBrowser(send: (update: Uint8Array) => void): void {
    if (this.browser === null) {
      const browser = new BrowserPresence(this.awareness.clientID);
      browser.outgoing.on("update", ({ added, updated, removed }: Change, origin: unknown) => {
        if (origin === REMOTE) return;
        const changed = [...added, ...updated, ...removed].filter((id) => id === browser.clientID);
        if (changed.length > 0) send(encodeAwarenessUpdate(browser.outgoing, changed));
      });
      this.browser = browser;
      const local = this.localState;
      if (local !== null) browser.set(this.tabId, local);
    }
    this.routeLocal((state) => this.browser?.set(this.tabId, state));
  }

  /** Leader: after a takeover this tab's state is the one shown (whatever the old leader showed). */
  showOwn(): void {
    this.browser?.set(this.tabId, this.localState);
  }

  /** Leader: the browser's presence as one update (for a fresh subscribe), null when it has none. */
  browserUpdate(): Uint8Array | null {
    const browser = this.browser;
    if (browser === null || browser.outgoing.getLocalState() === null) return null;
    return encodeAwarenessUpdate(browser.outgoing, [browser.clientID]);
  }

  /** Leader: a tab's local presence (undefined: the tab left). */
  setTab(tab: string, state: State | null | undefined): void {
    if (this.browser === null) return;
    if (state === undefined) this.browser.leave(tab);
    else this.browser.set(tab, state);
  }

  /** Others' presence from the server: this browser's own left out; what was applied (null: nothing). */
  applyFromServer(update: Uint8Array): Uint8Array | null {
    const others = this.browser === null ? update : withoutClients(update, new Set([this.browser.clientID]));
    if (others !== null) applyAwarenessUpdate(this.awareness, others, REMOTE);
    return others;
  }

  /** Others' presence relayed by the leader tab. */
  applyFromLeader(update: Uint8Array): void {
    applyAwarenessUpdate(this.awareness, update, REMOTE);
  }

  /** Others' presence, for a follower that just linked (null when there is none). */
  others(): Uint8Array | null {
    const ids = [...this.awareness.getStates().keys()].filter((id) => id !== this.awareness.clientID);
    return ids.length === 0 ? null : encodeAwarenessUpdate(this.awareness, ids);
  }

  /**
   * Offline: others' presence is unknown. Forget it without the clock bump that
   * removeAwarenessStates makes, so the server's snapshot after the reconnect is accepted.
   */
  forgetOthers(): void {
    const removed = [...this.awareness.getStates().keys()].filter((id) => id !== this.awareness.clientID);
    if (removed.length === 0) return;
    for (const id of removed) {
      this.awareness.states.delete(id);
      this.awareness.meta.delete(id);
    }
    const change = { added: [], updated: [], removed };
    this.awareness.emit("change", [change, REMOTE]);
    this.awareness.emit("update", [change, REMOTE]);
  }

  destroy(): void {
    this.awareness.off("update", this.localListener);
    this.awareness.destroy();
    this.browser?.destroy();
    this.browser = null;
  }

  private readonly localListener = ({ added, updated, removed }: Change, origin: unknown): void => {
    if (origin === REMOTE) return;
    if (![...added, ...updated, ...removed].includes(this.awareness.clientID)) return;
    this.sendLocal?.(this.localState);
  };
}

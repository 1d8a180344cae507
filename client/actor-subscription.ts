/**
 * One actor channel of a client, wiring its parts: the replica (loaded from storage before
 * any network), the outbox (outbox.ts), presence (presence.ts), the status machine
 * (connection-status.ts), one emitter (emitter.ts) and the upstream — the server or the
 * leader tab (upstream/), chosen by the tab's role when it loads and swapped when the tab
 * takes over (`promote`). Every `connect()` to the same actor in one client shares one of
 * these; it closes when the last connection is disposed.
 *
 * Status: `connecting` until an upstream answers, `syncing` from subscribe until sync step 2
 * is applied and the outbox is flushed, then `synced`; `offline` while the link is down.
 */
import * as Y from "yjs";
import { ActorStopped, InvalidArguments, InvalidState, StorageError, TandemError } from "../shared/errors.ts";
import { MAX_VALUE_DEPTH } from "../shared/protocol/value.ts";
import { nestsDeeperThan } from "../shared/protocol/value-depth.ts";
import { stateVersionOf } from "../shared/state/index.ts";
import type { ConnectionStatus } from "./connection-status.ts";
import type { Predictor } from "./optimistic.ts";
import type { ActionStore } from "./outbox.ts";
import type { OutboxEntry } from "./outbox-entry.ts";
import type { ReplicaStore } from "./replica-store.ts";
import type { StorageFault } from "./storage/storage.ts";
import type { DiscardedEdits } from "./subscription-events.ts";
import { SubscriptionCore } from "./subscription-core.ts";
import { LeaderTabUpstream } from "./upstream/leader-tab-upstream.ts";
import { ServerUpstream } from "./upstream/server-upstream.ts";
import type { SubscriptionSpec, Upstream, UpstreamRoute } from "./upstream/upstream.ts";

export type { ConnectionStatus, DiscardedEdits, OutboxEntry, SubscriptionSpec, UpstreamRoute };

/** What a subscription needs of its client. */
export interface SubscriptionHost {
  /** Decided once the client is ready; changes when this tab takes over. */
  upstream(): UpstreamRoute;
  /** This tab's id (presence per tab). */
  readonly tabId: string;
  /** A new call id, unique across the tabs of this storage. */
  newCallId(): string;
  readonly store: ReplicaStore;
  /** Resolves once the client's id and seq counter are loaded. */
  readonly ready: Promise<void>;
  readonly predictors: Readonly<Record<string, Predictor>>;
  /** The client's seqs (increasing across reloads; client/client-identity.ts). */
  readonly seqs: ActionStore["seqs"];
}
export class ActorSubscription extends SubscriptionCore {
  refs = 0;
  /** Resolves once what storage holds is loaded into the replica and the outbox. */
  readonly loaded: Promise<void>;
  /** Resolves once the subscription works in its tab's current role (after a takeover, too). */
  roleSettled: Promise<void>;
  /** The takeover under way, if any (one at a time). */
  private takingOver: Promise<void> | null = null;
  /** Where a leader stores its actions. */
  private readonly actionStore: ActionStore;

  constructor(
    private readonly host: SubscriptionHost,
    spec: SubscriptionSpec,
  ) {
    super(spec, host.tabId, host.store, host.predictors);
    this.actionStore = { seqs: host.seqs, records: host.store };
    const resume = this.outbox.pause(); // nothing is stored before what storage holds is loaded
    this.loaded = this.load().finally(resume);
    this.roleSettled = this.loaded.then(() => {
      if (this.disposed) return;
      // Loaded as a follower, but the tab took over meanwhile: take over properly.
      if (this.upstream?.role === "follower" && this.host.upstream().role === "leader") return this.promote();
      this.upstream?.attach();
    });
  }

  // ---------------------------------------------------------------------------------------
  // Calls from the connection (and, in the leader, from follower tabs)

  call(name: string, args: readonly unknown[], callId?: string): Promise<unknown> {
    if (!this.machine.isLive) return Promise.reject(this.refusal());
    let copied: unknown[];
    try {
      copied = copyArgs(args);
    } catch (error) {
      const why = error instanceof Error ? `: ${error.message}` : "";
      return Promise.reject(new InvalidArguments(`Action arguments must be plain data${why}`, { cause: error }));
    }
    const answer = this.outbox.add(name, copied, callId ?? this.host.newCallId()); // its prediction shows at once
    this.notifyChange();
    this.notifyOutbox();
    return answer;
  }

  /** The answer to the pending call with this call id, if there is one (a tab sending it again after a takeover). */
  join(callId: string): Promise<unknown> | undefined {
    return this.outbox.join(callId);
  }

  /**
   * New params for this connection (a token refresh) without resubscribing: the server runs
   * onAuth again and `c.conn.auth` changes in place. Resolves once the server accepted them
   * (at once when offline: the next subscribe carries them); a refusal closes the connection
   * with the server's error and rejects. In a follower tab, and against servers older than
   * protocol 3, the channel subscribes again with the new params instead.
   */
  setParams(params: unknown): Promise<void> {
    if (!this.machine.isLive) return Promise.reject(this.refusal());
    this.spec.params = params;
    return this.upstream === null ? Promise.resolve() : this.upstream.setParams(params);
  }

  /**
   * Forgets this replica's local data — document, edits and outbox (pending actions are
   * rejected) — and syncs it again from the server. In a follower tab the leader does it
   * (for every tab) and tells this one.
   */
  async resetLocalData(): Promise<void> {
    await this.roleSettled;
    const error = new ActorStopped("Local data was reset");
    this.outbox.rejectAll(error, true);
    await this.upstream?.reset(error);
    this.notifyOutbox();
    this.notifyChange();
  }

  dispose(): void {
    if (this.disposed) return;
    this.machine.dispose();
    this.upstream?.dispose();
    // Stored actions stay in storage: a later connection (or reload) sends them.
    this.outbox.rejectAll(new ActorStopped("The connection is disposed"), false);
    this.progress.stopped();
    this.presence.destroy();
    this.optimistic.dispose();
    this.bindDoc(null);
    this.replica.destroy();
  }

  /** Storage failed: the replica carries on in memory; the app hears about it. */
  storageFault(fault: StorageFault): void {
    const metadata = { operation: fault.operation, quota: fault.isQuota };
    this.emitter.emit("error", new StorageError(fault.message, { metadata, cause: fault.cause }));
  }

  // ---------------------------------------------------------------------------------------
  // Loading, roles

  private async load(): Promise<void> {
    this.progress.loading();
    await this.host.ready;
    const route = this.host.upstream();
    this.upstream = this.upstreamFor(route);
    const stored = await this.store.load().finally(() => this.progress.loaded());
    try {
      for (const update of stored.confirmed) Y.decodeUpdate(update);
      for (const edit of stored.edits) Y.decodeUpdate(edit.update);
    } catch (error) {
      if (route.role === "leader") await this.store.discardDocument("load", error);
      stored.confirmed.length = 0;
      stored.edits.length = 0;
    }
    const stale = staleVersion(stored.confirmed, this.spec.stateVersion);
    if (stale !== null) {
      // Stored by another version of the app's state: never shown, never sent; synced anew.
      const updates = stored.edits.map((edit) => edit.update);
      if (route.role === "leader") await this.store.clear(true);
      stored.confirmed.length = 0;
      stored.edits.length = 0;
      const error = new InvalidState(`The replica was stored by state version ${stale}; this app expects version ${this.spec.stateVersion}: it syncs anew`);
      if (updates.length > 0) this.emitter.emit("doc", { doc: this.replica.doc, discarded: { error, updates } });
    }
    for (const update of stored.confirmed) this.replica.applyRemote(update);
    this.upstream.restore(stored);
    this.optimistic.invalidate();
    this.notifyChange();
    this.notifyOutbox();
  }

  /** The strategy for a role; a leader's outbox is stored, a follower's held until its leader answers. */
  private upstreamFor(route: UpstreamRoute): Upstream {
    this.outbox.keepIn(route.role === "leader" ? this.actionStore : null);
    return route.role === "leader" ? new ServerUpstream(this, route.session) : new LeaderTabUpstream(this, route.link);
  }

  /**
   * This tab took over from the leader: rebuild the replica and the outbox from storage (the
   * old leader kept them), add what this tab still held that the old leader never confirmed
   * having (actions by call id, edits), and talk to the server from now on.
   */
  promote(): Promise<void> {
    if (this.takingOver !== null) return this.takingOver;
    if (this.upstream?.role === "leader" || this.disposed) return this.roleSettled;
    const resume = this.outbox.pause(); // never a write during a takeover
    this.takingOver = this.loaded
      .then(() => this.takeOver())
      .finally(() => {
        resume();
        this.takingOver = null;
      });
    this.roleSettled = this.takingOver;
    return this.takingOver;
  }

  private async takeOver(): Promise<void> {
    const route = this.host.upstream();
    if (this.disposed || this.upstream?.role === "leader" || route.role !== "leader") return;
    this.upstream?.detach(true);
    this.outbox.close();
    this.upstream = this.upstreamFor(route);
    this.presence.forgetOthers();
    const stored = await this.store.load();
    if (this.disposed) return;
    // The document stays (editors keep their binding); the confirmed state and the unanswered
    // edits are storage's, and what the doc holds beyond them — our unanswered edits, what the
    // old leader had not stored yet — is one more edit, stored and sent.
    const extra = this.replica.rebase(stored.confirmed, stored.edits);
    if (extra !== null) this.upstream.keepEdit(extra);
    this.outbox.rebuild(stored.outbox);
    this.optimistic.invalidate();
    this.notifyChange();
    this.notifyOutbox();
    this.upstream.attach();
    this.presence.showOwn();
  }
  /** Why a call is refused once the subscription is no longer live. */
  private refusal(): TandemError {
    return this.disposed || this.machine.error === null ? new ActorStopped("The connection is disposed") : this.machine.error;
  }
}

/** The state version stored updates hold, when it is not `expected` (null: it is, or nothing is stored, or nothing is expected). */
function staleVersion(confirmed: readonly Uint8Array[], expected: number | undefined): number | null {
  if (expected === undefined || confirmed.length === 0) return null;
  const doc = new Y.Doc();
  try {
    Y.transact(doc, () => {
      for (const update of confirmed) Y.applyUpdate(doc, update);
    });
    const version = stateVersionOf(doc);
    return version === expected ? null : version;
  } finally {
    doc.destroy();
  }
}

/** The arguments as the action gets them, copied at the call: primitives need no clone. */
function copyArgs(args: readonly unknown[]): unknown[] {
  for (const arg of args) {
    if (arg === null) continue;
    const type = typeof arg;
    if (type !== "number" && type !== "string" && type !== "boolean" && type !== "undefined" && type !== "bigint") {
      const copy = structuredClone([...args]);
      // The server would refuse the frame: refused here, before it is stored in the outbox.
      if (nestsDeeperThan(copy)) throw new RangeError(`values nest deeper than ${MAX_VALUE_DEPTH} levels`);
      return copy;
    }
  }
  return [...args];
}

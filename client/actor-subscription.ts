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
import { ActorStopped, Forbidden, TandemError } from "../shared/errors.ts";
import { type ConnectionStatus, StatusMachine } from "./connection-status.ts";
import { Emitter } from "./emitter.ts";
import { OptimisticView, type Predictor } from "./optimistic.ts";
import { type ActionStore, Outbox, type OutboxAction, type Outcome, entryOf } from "./outbox.ts";
import type { OutboxEntry } from "./outbox-entry.ts";
import { Presence } from "./presence.ts";
import { type PendingEdit, Replica } from "./replica.ts";
import { COMPACT_AFTER, type ReplicaStore } from "./replica-store.ts";
import type { StorageFault } from "./storage/storage.ts";
import type { DiscardedEdits, SubscriptionEvents } from "./subscription-events.ts";
import { LeaderTabUpstream } from "./upstream/leader-tab-upstream.ts";
import { ServerUpstream } from "./upstream/server-upstream.ts";
import type { ChannelCore, SubscriptionSpec, Upstream, UpstreamRoute } from "./upstream/upstream.ts";

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
  /**
   * The next seq of this client (increasing across reloads): a number when one is reserved
   * already, else a promise of it (a block is being reserved in storage).
   */
  takeSeq(): number | Promise<number>;
}

export class ActorSubscription implements ChannelCore {
  readonly replica: Replica;
  readonly presence: Presence;
  readonly outbox: Outbox;
  readonly machine = new StatusMachine((status) => this.statusChanged(status), () => new ActorStopped("The connection is disposed"));
  readonly emitter = new Emitter<SubscriptionEvents>((name) => name === "mirror" && this.bindDoc(this.boundDoc));
  /** The actor's events, by name (what `conn.on(name)` hears). */
  readonly events = new Emitter<Record<string, [unknown]>>();
  readonly optimistic: OptimisticView;
  readonly store: ReplicaStore;
  readonly tabId: string;
  actorId: string | null = null;
  connId: string | null = null;
  canEdit: boolean | null = null;
  refs = 0;
  /** Resolves once what storage holds is loaded into the replica and the outbox. */
  readonly loaded: Promise<void>;
  /** Resolves once the subscription works in its tab's current role (after a takeover, too). */
  roleSettled: Promise<void>;
  /** Null until loaded (the role is known then). */
  private upstream: Upstream | null = null;
  /** The takeover under way, if any (one at a time). */
  private takingOver: Promise<void> | null = null;
  private boundDoc: Y.Doc | null = null;
  /** Where a leader stores its actions. */
  private readonly actionStore: ActionStore = { takeSeq: () => this.host.takeSeq(), addAction: (record) => this.store.addAction(record) };

  constructor(
    private readonly host: SubscriptionHost,
    readonly spec: SubscriptionSpec,
  ) {
    this.store = host.store;
    this.tabId = host.tabId;
    this.presence = new Presence(host.tabId);
    this.outbox = new Outbox({
      send: () => undefined, // each upstream opens the outbox with its own sender
      changed: () => {
        this.notifyOutbox();
        this.upstream?.refreshStatus();
      },
      hearsSettled: () => this.emitter.heard("settled"),
      settled: (entry) => this.emitter.emit("settled", entry),
    });
    this.replica = new Replica(
      (edit) => this.localEdit(edit),
      (doc) => this.bindDoc(doc),
      () => {
        this.optimistic.invalidate();
        this.notifyChange();
      },
    );
    this.bindDoc(this.replica.doc);
    this.optimistic = new OptimisticView(host.predictors, (action, error) =>
      this.emitter.emit("error", new TandemError("prediction_failed", `The optimistic handler of "${action.name}" threw: ${String(error)}`, "client")),
    );
    const resume = this.outbox.pause(); // nothing is stored before what storage holds is loaded
    this.loaded = this.load().finally(resume);
    this.roleSettled = this.loaded.then(() => {
      if (this.disposed) return;
      // Loaded as a follower, but the tab took over meanwhile: take over properly.
      if (this.upstream?.role === "follower" && this.host.upstream().role === "leader") return this.promote();
      this.upstream?.attach();
    });
  }

  get disposed(): boolean {
    return this.machine.state === "disposed";
  }

  get status(): ConnectionStatus {
    return this.machine.status;
  }

  get awareness() {
    return this.presence.awareness;
  }

  get pending(): number {
    return this.queue().length + this.replica.pendingEdits.length;
  }

  /** The view: confirmed ⊕ predictions of pending actions; undefined before any state. */
  get state(): Record<string, unknown> | undefined {
    if (!this.replica.hasState) return undefined;
    const queue = this.queue();
    if (!queue.some((action) => this.optimistic.hasPredictor(action.name))) return this.replica.state;
    return this.optimistic.view(this.replica.root, queue);
  }

  /** The outbox as the app lists it (in a follower tab: the leader's, with this tab's own in their places). */
  get entries(): OutboxEntry[] {
    return this.queue().map((action) => ("entry" in action ? action.entry : entryOf(action, action.status)));
  }

  get inMemoryOnly(): boolean {
    return this.store.inMemory;
  }

  private queue() {
    return this.upstream === null ? this.outbox.list : this.upstream.queue(this.outbox.list);
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
      return Promise.reject(new TandemError("invalid_arguments", `Action arguments must be plain data${why}`, "client", { cause: error }));
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

  whenSynced(): Promise<void> {
    return this.machine.whenSynced();
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
    this.presence.destroy();
    this.optimistic.dispose();
    this.bindDoc(null);
    this.replica.destroy();
  }

  /** Storage failed: the replica carries on in memory; the app hears about it. */
  storageFault(fault: StorageFault): void {
    const metadata = { operation: fault.operation, quota: fault.isQuota };
    this.emitter.emit("error", new TandemError("storage_error", fault.message, "client", { metadata, cause: fault.cause }));
  }

  // ---------------------------------------------------------------------------------------
  // Loading, roles

  private async load(): Promise<void> {
    await this.host.ready;
    const route = this.host.upstream();
    this.upstream = this.upstreamFor(route);
    const stored = await this.store.load();
    try {
      for (const update of stored.confirmed) Y.decodeUpdate(update);
      for (const edit of stored.edits) Y.decodeUpdate(edit.update);
    } catch (error) {
      if (route.role === "leader") await this.store.discardDocument("load", error);
      stored.confirmed.length = 0;
      stored.edits.length = 0;
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

  // ---------------------------------------------------------------------------------------
  // Steps the upstreams share (ChannelCore)

  identify(actorId: string | null, connId: string | null, canEdit: boolean | null): void {
    this.actorId = actorId;
    this.connId = connId;
    this.canEdit = canEdit;
    this.viewChanged();
  }

  caughtUp(sendAction: (action: OutboxAction) => void): void {
    for (const edit of this.replica.pendingEdits) this.upstream?.sendEdit(edit);
    this.outbox.open(sendAction);
    this.notifyChange();
    this.upstream?.refreshStatus();
  }

  settle(action: OutboxAction, outcome: Outcome): void {
    this.optimistic.invalidate();
    this.outbox.settle(action, outcome);
    this.notifyChange();
    this.notifyOutbox();
    this.upstream?.refreshStatus();
  }

  confirm(update: Uint8Array, settles: { outboxSeq?: number; editKey?: string }): void {
    this.replica.applyRemote(update);
    this.saveConfirmed(update, settles);
  }

  saveConfirmed(update: Uint8Array, settles: { outboxSeq?: number; editKey?: string }): void {
    this.store.confirmed(update, settles);
    if (this.store.updatesSinceSnapshot >= COMPACT_AFTER) this.store.compact(Y.encodeStateAsUpdate(this.replica.confirmed));
  }

  /** The actor refused this connection for good (auth, not found…), or the server refused the client. */
  fail(error: TandemError): void {
    if (!this.machine.fail(error)) return;
    this.outbox.rejectAll(error, false);
    this.emitter.emit("error", error);
    this.emitter.emit("failed", error);
    this.notifyOutbox();
  }

  rejectEdit(id: number, error: TandemError): void {
    const discarded = this.replica.reject(id);
    if (discarded.length > 0) this.discarded(error, discarded);
  }

  /** A read-only replica: local edits never leave this client; the replica goes back. */
  refuseLocal(): void {
    queueMicrotask(() => {
      if (this.replica.pendingEdits.length === 0) return;
      this.discarded(new Forbidden("This replica is read-only: local edits were discarded"), this.replica.discardLocal());
    });
  }

  emitReplaced(error: TandemError): void {
    if (!this.emitter.heard("replaced")) return;
    this.emitter.emit("replaced", Y.encodeStateAsUpdate(this.replica.doc), error);
  }

  emitEvent(name: string, payload: unknown): void {
    this.events.emit(name, payload);
    this.emitter.emit("anyEvent", name, payload);
  }

  notifyChange(): void {
    this.emitter.emit("change");
  }

  notifyOutbox(): void {
    this.viewChanged();
    if (this.emitter.heard("outbox")) this.emitter.emit("outbox", this.entries);
  }

  viewChanged(): void {
    this.emitter.emit("view");
  }

  // ---------------------------------------------------------------------------------------
  // Internals

  /** Why a call is refused once the subscription is no longer live. */
  private refusal(): TandemError {
    return this.disposed || this.machine.error === null ? new ActorStopped("The connection is disposed") : this.machine.error;
  }

  private localEdit(edit: PendingEdit): void {
    if (this.canEdit === false) {
      this.refuseLocal();
      return;
    }
    // Before the role is known (an edit before load) it is stored, as a lone tab would.
    if (this.upstream === null) edit.storageKey = this.store.addEdit(edit.update);
    else this.upstream.keepEdit(edit);
    if (this.upstream?.live) this.upstream.sendEdit(edit);
  }

  private discarded(error: TandemError, edits: PendingEdit[]): void {
    this.upstream?.dropEdits(edits);
    const info: DiscardedEdits = { error, updates: edits.map((edit) => edit.update) };
    this.emitter.emit("doc", { doc: this.replica.doc, discarded: info });
    this.emitter.emit("error", error);
    this.emitReplaced(error);
    this.notifyChange();
  }

  private statusChanged(status: ConnectionStatus): void {
    this.emitter.emit("status", status);
    this.viewChanged();
  }

  /** Every change of `doc` goes to the follower tabs' mirrors, heard only while some listen (Yjs encodes updates for listeners). */
  private bindDoc(doc: Y.Doc | null): void {
    this.boundDoc?.off("update", this.mirrorListener);
    this.boundDoc = doc;
    if (doc !== null && this.emitter.heard("mirror")) doc.on("update", this.mirrorListener);
  }

  private readonly mirrorListener = (update: Uint8Array): void => {
    this.emitter.emit("mirror", update);
  };
}

/** The arguments as the action gets them, copied at the call: primitives need no clone. */
function copyArgs(args: readonly unknown[]): unknown[] {
  for (const arg of args) {
    if (arg === null) continue;
    const type = typeof arg;
    if (type !== "number" && type !== "string" && type !== "boolean" && type !== "undefined" && type !== "bigint") return structuredClone([...args]);
  }
  return [...args];
}

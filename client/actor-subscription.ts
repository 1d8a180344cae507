/**
 * One actor channel of a client: the replica (loaded from storage before any network), the
 * outbox (every action stored before it is sent, resent after a reconnect or a reload with
 * its seq, so the server applies it exactly once), direct edits, predictions, events,
 * presence and the connection status. Every `connect()` to the same actor in one client
 * shares one of these; it closes when the last connection is disposed.
 *
 * Status: `connecting` until the socket is greeted, `syncing` from subscribe until sync
 * step 2 is applied and the outbox is flushed (every action sent before is answered), then
 * `synced`; `offline` while the socket is down.
 */
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from "y-protocols/awareness";
import * as Y from "yjs";
import { ActorStopped, Forbidden, TandemError, errorFromWire } from "../shared/errors.ts";
import { type DownMessage, Kind, type SubscribeTarget, unexpectedCase } from "../shared/protocol/index.ts";
import { OptimisticView, type PredictedAction, type Predictor } from "./optimistic.ts";
import { type PendingEdit, REMOTE, Replica } from "./replica.ts";
import { COMPACT_AFTER, type OutboxRecord, type ReplicaStore } from "./replica-store.ts";
import type { ClientSession, SessionChannel } from "./session.ts";
import type { StorageFault } from "./storage/storage.ts";

export type ConnectionStatus = "offline" | "connecting" | "syncing" | "synced";

/** An action of the outbox, as the app can list it ("3 changes not yet saved"). */
export interface OutboxEntry {
  readonly seq: number;
  readonly name: string;
  readonly args: readonly unknown[];
  readonly status: "queued" | "sent" | "confirmed" | "rejected";
  readonly result?: unknown;
  readonly error?: TandemError;
  /** Restored from storage after a reload: its original promise is gone, hence events. */
  readonly restored: boolean;
}

interface PendingAction extends PredictedAction {
  readonly id: number;
  seq: number;
  stored: boolean;
  status: "queued" | "sent";
  readonly restored: boolean;
  readonly resolve?: (value: unknown) => void;
  readonly reject?: (error: unknown) => void;
}

export interface SubscriptionSpec {
  readonly name: string;
  readonly target: SubscribeTarget;
  readonly params: unknown;
}

/** What a subscription needs of its client. */
export interface SubscriptionHost {
  readonly session: ClientSession;
  readonly store: ReplicaStore;
  /** Resolves once the client's id and seq counter are loaded. */
  readonly ready: Promise<void>;
  /** The next seq of this client (increasing across reloads). */
  takeSeq(): Promise<number>;
  readonly predictors: Readonly<Record<string, Predictor>>;
}

type Listener<T> = (value: T) => void;

/** Why local data was thrown away: a rejected edit (and all after it), or a read-only replica. */
export interface DiscardedEdits {
  readonly error: TandemError;
  readonly updates: readonly Uint8Array[];
}

/** Actions sent and not yet answered, per channel (below the server's exactly-once result window). */
const MAX_IN_FLIGHT = 64;

export class ActorSubscription implements SessionChannel {
  readonly replica: Replica;
  readonly awareness = new Awareness(new Y.Doc());
  status: ConnectionStatus = "connecting";
  actorId: string | null = null;
  connId: string | null = null;
  canEdit: boolean | null = null;
  refs = 0;
  /** Resolves once what storage holds is loaded into the replica and the outbox. */
  readonly loaded: Promise<void>;

  private channel = 0;
  private subscribed = false;
  private caughtUp = false;
  private readonly actions: PendingAction[] = [];
  private inflight = 0;
  private nextActionId = 1;
  private disposed = false;
  private failure: TandemError | null = null;
  private resubscribeTimer: ReturnType<typeof setTimeout> | null = null;
  private storing: Promise<void> = Promise.resolve();
  private readonly optimistic: OptimisticView;
  private readonly syncWaiters: { resolve(): void; reject(error: unknown): void }[] = [];
  readonly events = new Map<string, Set<Listener<unknown>>>();
  readonly statusListeners = new Set<Listener<ConnectionStatus>>();
  readonly errorListeners = new Set<Listener<TandemError>>();
  readonly changeListeners = new Set<Listener<void>>();
  readonly docListeners = new Set<Listener<{ doc: Y.Doc; discarded: DiscardedEdits }>>();
  readonly outboxListeners = new Set<Listener<readonly OutboxEntry[]>>();
  readonly settledListeners = new Set<Listener<OutboxEntry>>();

  constructor(
    private readonly host: SubscriptionHost,
    readonly spec: SubscriptionSpec,
  ) {
    this.replica = new Replica(
      (edit) => this.localEdit(edit),
      () => undefined,
      () => {
        this.optimistic.invalidate();
        this.notifyChange();
      },
    );
    this.optimistic = new OptimisticView(host.predictors, (action, error) =>
      this.emitError(new TandemError("prediction_failed", `The optimistic handler of "${action.name}" threw: ${String(error)}`, "client")),
    );
    this.awareness.on("update", this.awarenessListener);
    this.loaded = this.load();
    void this.loaded.then(() => {
      if (!this.disposed) this.channel = host.session.attach(this);
    });
  }

  // ---------------------------------------------------------------------------------------
  // What connections read

  get pending(): number {
    return this.actions.length + this.replica.pendingEdits.length;
  }

  /** The view: confirmed ⊕ predictions of pending actions; undefined before any state. */
  get state(): Record<string, unknown> | undefined {
    if (!this.replica.hasState) return undefined;
    if (!this.actions.some((action) => this.optimistic.hasPredictor(action.name))) return this.replica.state;
    return this.optimistic.view(this.replica.root, this.actions);
  }

  get outbox(): OutboxEntry[] {
    return this.actions.map((action) => entryOf(action, action.status));
  }

  get inMemoryOnly(): boolean {
    return this.host.store.inMemory;
  }

  // ---------------------------------------------------------------------------------------
  // Calls from the connection

  call(name: string, args: readonly unknown[]): Promise<unknown> {
    if (this.disposed) return Promise.reject(new ActorStopped("The connection is disposed"));
    if (this.failure !== null) return Promise.reject(this.failure);
    let copied: unknown[];
    try {
      copied = structuredClone([...args]);
    } catch {
      return Promise.reject(new TandemError("invalid_arguments", "Action arguments must be plain data", "client"));
    }
    return new Promise((resolve, reject) => {
      const action: PendingAction = { id: this.nextActionId++, name, args: copied, seq: 0, stored: false, status: "queued", restored: false, resolve, reject };
      this.actions.push(action); // its prediction shows at once
      // Stored before it is sent, in call order: seqs follow the order of calls.
      this.storing = this.storing.then(async () => {
        await this.loaded;
        if (!this.actions.includes(action)) return; // reset or disposed meanwhile
        action.seq = await this.host.takeSeq();
        if (!this.actions.includes(action)) return;
        const record: OutboxRecord = { seq: action.seq, name, args: copied, createdAt: Date.now() };
        await this.host.store.addAction(record);
        action.stored = true;
        this.pump();
        this.notifyOutbox();
      });
      this.notifyChange();
      this.notifyOutbox();
    });
  }

  whenSynced(): Promise<void> {
    if (this.status === "synced") return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.disposed) return Promise.reject(new ActorStopped("The connection is disposed"));
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /**
   * Forgets this replica's local data — document, edits and outbox (pending actions are
   * rejected) — and syncs it again from the server. For a client that is stuck.
   */
  async resetLocalData(): Promise<void> {
    await this.loaded;
    const error = new ActorStopped("Local data was reset");
    for (const action of this.actions.splice(0)) {
      action.reject?.(error);
      this.emitSettled(entryOf(action, "rejected", { error }));
    }
    this.inflight = 0;
    this.replica.clear();
    this.optimistic.invalidate();
    await this.host.store.clear(false);
    for (const listener of [...this.docListeners]) listener({ doc: this.replica.doc, discarded: { error, updates: [] } });
    if (this.channel !== 0) {
      this.host.session.detach(this.channel);
      this.subscribed = false;
      this.channel = this.host.session.attach(this);
    }
    this.notifyOutbox();
    this.notifyChange();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.resubscribeTimer !== null) clearTimeout(this.resubscribeTimer);
    if (this.channel !== 0) this.host.session.detach(this.channel);
    const error = new ActorStopped("The connection is disposed");
    // Stored actions stay in the outbox: a later connection (or reload) sends them.
    for (const action of this.actions.splice(0)) action.reject?.(error);
    for (const waiter of this.syncWaiters.splice(0)) waiter.reject(error);
    this.awareness.off("update", this.awarenessListener);
    this.awareness.destroy();
    this.optimistic.dispose();
    this.replica.destroy();
  }

  // ---------------------------------------------------------------------------------------
  // Loading

  private async load(): Promise<void> {
    await this.host.ready;
    const stored = await this.host.store.load();
    try {
      for (const update of stored.confirmed) Y.decodeUpdate(update);
      for (const edit of stored.edits) Y.decodeUpdate(edit.update);
    } catch (error) {
      await this.host.store.discardDocument("load", error);
      stored.confirmed.length = 0;
      stored.edits.length = 0;
    }
    for (const update of stored.confirmed) this.replica.applyRemote(update);
    for (const edit of stored.edits) this.replica.restoreEdit(edit.update, edit.key);
    const restored: PendingAction[] = stored.outbox.map((record) => ({
      id: this.nextActionId++,
      name: record.name,
      args: record.args,
      seq: record.seq,
      stored: true,
      status: "queued",
      restored: true,
    }));
    this.actions.unshift(...restored);
    this.optimistic.invalidate();
    this.notifyChange();
    this.notifyOutbox();
  }

  // ---------------------------------------------------------------------------------------
  // Session events

  online(): void {
    if (this.disposed) return;
    this.clearResubscribe(); // this subscribe replaces any retry that was waiting
    this.setStatus("syncing");
    this.caughtUp = false;
    this.host.session.send({
      kind: Kind.subscribe,
      channel: this.channel,
      name: this.spec.name,
      target: this.spec.target,
      params: this.spec.params,
      stateVector: this.replica.hasState ? Y.encodeStateVector(this.replica.confirmed) : new Uint8Array(),
    });
  }

  offline(): void {
    if (this.disposed) return;
    this.clearResubscribe(); // the next socket subscribes anew
    this.subscribed = false;
    this.caughtUp = false;
    this.forgetRemotePresence();
    this.setStatus("offline");
  }

  /** The actor refused this connection for good (auth, not found…), or the server refused the client. */
  fail(error: TandemError): void {
    this.subscribed = false;
    this.failure = error;
    for (const action of this.actions.splice(0)) action.reject?.(error);
    this.inflight = 0;
    for (const waiter of this.syncWaiters.splice(0)) waiter.reject(error);
    this.emitError(error);
    this.setStatus("offline");
    this.notifyOutbox();
  }

  receive(message: DownMessage): void {
    if (this.disposed) return;
    switch (message.kind) {
      case Kind.subscribed:
        this.subscribed = true;
        this.actorId = message.actorId;
        this.connId = message.connId;
        this.canEdit = message.canEdit;
        if (!message.canEdit && this.replica.pendingEdits.length > 0) this.refuseLocal();
        return;
      case Kind.sync:
        this.confirm(message.data, {});
        if (message.step === "step2" && !this.caughtUp) this.catchUp();
        return;
      case Kind.ack:
        return this.ack(message);
      case Kind.editResult:
        if (message.ok) {
          const edit = this.replica.accept(message.id);
          if (edit) this.saveConfirmed(edit.update, { editKey: edit.storageKey });
        } else this.rejected(message.id, errorFromWire(message.error));
        this.notifyChange(); // pending went down
        this.maybeSynced();
        return;
      case Kind.event:
        for (const listener of [...(this.events.get(message.name) ?? [])]) listener(message.payload);
        return;
      case Kind.awareness:
        applyAwarenessUpdate(this.awareness, message.update, REMOTE);
        return;
      case Kind.unsubscribed:
        return this.unsubscribed(errorFromWire(message.error), message.retry);
      case Kind.error:
        this.emitError(errorFromWire(message.error));
        return;
      case Kind.welcome:
        return;
      default:
        return unexpectedCase(message);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Internals

  /** After sync step 2: presence, then unanswered edits, then the outbox, in order. */
  private catchUp(): void {
    this.caughtUp = true;
    if (this.awareness.getLocalState() !== null) {
      this.host.session.send({ kind: Kind.awareness, channel: this.channel, update: encodeAwarenessUpdate(this.awareness, [this.awareness.clientID]) });
    }
    for (const edit of this.replica.pendingEdits) this.sendEdit(edit);
    this.inflight = 0;
    for (const action of this.actions) if (action.status === "sent") action.status = "queued"; // resent with the same seq
    this.pump();
    this.notifyChange();
    this.maybeSynced();
  }

  /** Sends stored actions in order, at most MAX_IN_FLIGHT unanswered; stops at one not yet stored. */
  private pump(): void {
    if (!this.subscribed || !this.caughtUp) return;
    let sent = false;
    for (const action of this.actions) {
      if (this.inflight >= MAX_IN_FLIGHT) break;
      if (!action.stored) break;
      if (action.status !== "queued") continue;
      action.status = "sent";
      this.inflight++;
      sent = true;
      this.host.session.send({ kind: Kind.action, channel: this.channel, id: action.id, name: action.name, args: action.args, seq: action.seq });
    }
    if (sent) this.notifyOutbox();
  }

  private ack(message: Extract<DownMessage, { kind: typeof Kind.ack }>): void {
    const index = this.actions.findIndex((action) => action.id === message.id);
    if (index < 0) return;
    const action = this.actions[index]!;
    if (action.status === "sent") this.inflight--;
    if (!message.ok && message.error.code === "actor_stopped") {
      // Not run: the actor was stopping (a deploy, a restart). It stays in the outbox and is
      // sent again, with its seq, after the next subscribe.
      action.status = "queued";
      this.notifyOutbox();
      return;
    }
    this.actions.splice(index, 1);
    // The state and the result land together; the prediction goes with the pending action.
    this.confirm(message.update, { outboxSeq: action.seq });
    this.optimistic.invalidate();
    if (message.ok) {
      action.resolve?.(message.result);
      this.emitSettled(entryOf(action, "confirmed", { result: message.result }));
    } else {
      const error = errorFromWire(message.error);
      action.reject?.(error);
      this.emitSettled(entryOf(action, "rejected", { error }));
    }
    this.pump();
    this.notifyChange();
    this.notifyOutbox();
    this.maybeSynced();
  }

  /** Applies and stores a confirmed update (with what it settles in storage). */
  private confirm(update: Uint8Array, settles: { outboxSeq?: number; editKey?: string }): void {
    this.replica.applyRemote(update);
    this.saveConfirmed(update, settles);
  }

  private saveConfirmed(update: Uint8Array, settles: { outboxSeq?: number; editKey?: string }): void {
    const store = this.host.store;
    store.confirmed(update, settles);
    if (store.updatesSinceSnapshot >= COMPACT_AFTER) store.compact(Y.encodeStateAsUpdate(this.replica.confirmed));
  }

  private maybeSynced(): void {
    if (this.subscribed && this.caughtUp && this.inflight === 0 && !this.actions.some((action) => action.stored)) this.setStatus("synced");
  }

  private clearResubscribe(): void {
    if (this.resubscribeTimer !== null) clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = null;
  }

  private unsubscribed(error: TandemError, retry: boolean): void {
    this.subscribed = false;
    this.caughtUp = false;
    if (retry && this.host.session.isOnline) {
      this.setStatus("syncing");
      this.clearResubscribe();
      this.resubscribeTimer = setTimeout(() => {
        this.resubscribeTimer = null;
        if (this.host.session.isOnline && !this.disposed) this.online();
      }, 50 + Math.floor(Math.random() * 200));
      return;
    }
    this.fail(error);
  }

  private localEdit(edit: PendingEdit): void {
    if (this.canEdit === false) {
      this.refuseLocal();
      return;
    }
    edit.storageKey = this.host.store.addEdit(edit.update);
    if (this.subscribed && this.caughtUp) this.sendEdit(edit);
  }

  private sendEdit(edit: PendingEdit): void {
    this.host.session.send({ kind: Kind.edit, channel: this.channel, id: edit.id, update: edit.update });
  }

  /** A read-only replica: local edits never leave this client; the replica goes back. */
  private refuseLocal(): void {
    queueMicrotask(() => {
      if (this.replica.pendingEdits.length === 0) return;
      this.discarded(new Forbidden("This replica is read-only: local edits were discarded"), this.replica.discardLocal());
    });
  }

  private rejected(id: number, error: TandemError): void {
    const discarded = this.replica.reject(id);
    if (discarded.length > 0) this.discarded(error, discarded);
  }

  private discarded(error: TandemError, edits: PendingEdit[]): void {
    this.host.store.dropEdits(edits.flatMap((edit) => (edit.storageKey ? [edit.storageKey] : [])));
    const info: DiscardedEdits = { error, updates: edits.map((edit) => edit.update) };
    for (const listener of [...this.docListeners]) listener({ doc: this.replica.doc, discarded: info });
    this.emitError(error);
    this.notifyChange();
  }

  /**
   * Offline: others' presence is unknown. Forget it without the clock bump that
   * removeAwarenessStates makes, so the server's snapshot after the reconnect is accepted.
   */
  private forgetRemotePresence(): void {
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

  /** Storage failed: the replica carries on in memory; the app hears about it. */
  storageFault(fault: StorageFault): void {
    this.emitError(
      new TandemError("storage_error", fault.message, "client", { metadata: { operation: fault.operation, quota: fault.isQuota }, cause: fault.cause }),
    );
  }

  private emitError(error: TandemError): void {
    for (const listener of [...this.errorListeners]) listener(error);
  }

  private emitSettled(entry: OutboxEntry): void {
    for (const listener of [...this.settledListeners]) listener(entry);
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    if (status === "synced") for (const waiter of this.syncWaiters.splice(0)) waiter.resolve();
    for (const listener of [...this.statusListeners]) listener(status);
  }

  private notifyChange(): void {
    for (const listener of [...this.changeListeners]) listener();
  }

  private notifyOutbox(): void {
    if (this.outboxListeners.size === 0) return;
    const entries = this.outbox;
    for (const listener of [...this.outboxListeners]) listener(entries);
  }

  private readonly awarenessListener = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin === REMOTE || !this.subscribed) return;
    const changed = [...added, ...updated, ...removed].filter((id) => id === this.awareness.clientID);
    if (changed.length === 0) return;
    this.host.session.send({ kind: Kind.awareness, channel: this.channel, update: encodeAwarenessUpdate(this.awareness, changed) });
  };
}

function entryOf(action: PendingAction, status: OutboxEntry["status"], outcome: { result?: unknown; error?: TandemError } = {}): OutboxEntry {
  return { seq: action.seq, name: action.name, args: action.args, status, restored: action.restored, ...outcome };
}

/**
 * One actor channel of a client: the replica, the actions waiting for their acks, the
 * direct edits waiting for their answers, events, presence and the connection status.
 * Every `connect()` to the same actor (same key and params) in one client shares one of
 * these; it closes when the last connection is disposed.
 *
 * Status: `connecting` until the socket is greeted, `syncing` from subscribe until sync
 * step 2 is applied and every action queued before it is answered, then `synced`;
 * `offline` while the socket is down.
 */
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from "y-protocols/awareness";
import type * as Y from "yjs";
import { ActorStopped, Forbidden, type TandemError, errorFromWire } from "../shared/errors.ts";
import { type DownMessage, Kind, type SubscribeTarget, unexpectedCase } from "../shared/protocol/index.ts";
import { type PendingEdit, REMOTE, Replica } from "./replica.ts";
import type { ClientSession, SessionChannel } from "./session.ts";

export type ConnectionStatus = "offline" | "connecting" | "syncing" | "synced";

interface PendingAction {
  readonly id: number;
  readonly name: string;
  readonly args: readonly unknown[];
  readonly seq: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface SubscriptionSpec {
  readonly name: string;
  readonly target: SubscribeTarget;
  readonly params: unknown;
}

type Listener<T> = (value: T) => void;

/** Actions sent and not yet answered, per channel (below the server's exactly-once result window). */
const MAX_IN_FLIGHT = 64;

/** Why local data was thrown away: a rejected edit (and all after it), or a read-only replica. */
export interface DiscardedEdits {
  readonly error: TandemError;
  readonly updates: readonly Uint8Array[];
}

export class ActorSubscription implements SessionChannel {
  readonly replica: Replica;
  readonly awareness: Awareness;
  status: ConnectionStatus = "connecting";
  actorId: string | null = null;
  connId: string | null = null;
  canEdit: boolean | null = null;
  refs = 0;

  private readonly channel: number;
  private subscribed = false;
  private caughtUp = false;
  private readonly queued: PendingAction[] = [];
  private readonly inflight = new Map<number, PendingAction>();
  private nextActionId = 1;
  private disposed = false;
  /** Set when the connection was refused for good: calls fail at once. */
  private failure: TandemError | null = null;
  private resubscribeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly syncWaiters: { resolve(): void; reject(error: unknown): void }[] = [];
  readonly events = new Map<string, Set<Listener<unknown>>>();
  readonly statusListeners = new Set<Listener<ConnectionStatus>>();
  readonly errorListeners = new Set<Listener<TandemError>>();
  readonly changeListeners = new Set<Listener<void>>();
  readonly docListeners = new Set<Listener<{ doc: Y.Doc; discarded: DiscardedEdits }>>();

  constructor(
    private readonly session: ClientSession,
    readonly spec: SubscriptionSpec,
    private readonly nextSeq: () => number,
  ) {
    this.replica = new Replica(
      (edit) => this.localEdit(edit),
      (doc) => this.watch(doc),
    );
    this.watch(this.replica.doc);
    this.awareness = new Awareness(this.replica.confirmed);
    this.awareness.on("update", this.awarenessListener);
    this.channel = session.attach(this);
  }

  get pending(): number {
    return this.queued.length + this.inflight.size + this.replica.pendingEdits.length;
  }

  // ---------------------------------------------------------------------------------------
  // Calls from the connection

  call(name: string, args: readonly unknown[]): Promise<unknown> {
    if (this.disposed) return Promise.reject(new ActorStopped("The connection is disposed"));
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const action: PendingAction = { id: this.nextActionId++, name, args, seq: this.nextSeq(), resolve, reject };
      this.queued.push(action);
      if (this.subscribed && this.caughtUp) this.pump();
      this.notifyChange();
    });
  }

  whenSynced(): Promise<void> {
    if (this.status === "synced") return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.disposed) return Promise.reject(new ActorStopped("The connection is disposed"));
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.resubscribeTimer !== null) clearTimeout(this.resubscribeTimer);
    this.session.detach(this.channel);
    const error = new ActorStopped("The connection is disposed");
    for (const action of [...this.inflight.values(), ...this.queued]) action.reject(error);
    this.inflight.clear();
    this.queued.length = 0;
    for (const waiter of this.syncWaiters.splice(0)) waiter.reject(error);
    this.awareness.off("update", this.awarenessListener);
    this.awareness.destroy();
    this.replica.destroy();
  }

  // ---------------------------------------------------------------------------------------
  // Session events

  online(): void {
    if (this.disposed) return;
    this.setStatus("syncing");
    this.caughtUp = false;
    this.session.send({
      kind: Kind.subscribe,
      channel: this.channel,
      name: this.spec.name,
      target: this.spec.target,
      params: this.spec.params,
      stateVector: this.replica.hasState ? encodeStateVector(this.replica.confirmed) : new Uint8Array(),
    });
  }

  offline(): void {
    if (this.disposed) return;
    this.subscribed = false;
    this.caughtUp = false;
    this.forgetRemotePresence();
    this.setStatus("offline");
  }

  /** The actor refused this connection for good (auth, not found…), or the server refused the client. */
  fail(error: TandemError): void {
    this.subscribed = false;
    this.failure = error;
    for (const action of [...this.inflight.values(), ...this.queued]) action.reject(error);
    this.inflight.clear();
    this.queued.length = 0;
    for (const waiter of this.syncWaiters.splice(0)) waiter.reject(error);
    this.emitError(error);
    this.setStatus("offline");
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
        this.replica.applyRemote(message.data);
        this.replica.hasState = true;
        if (message.step === "step2" && !this.caughtUp) this.catchUp();
        return;
      case Kind.ack:
        return this.ack(message);
      case Kind.editResult:
        if (message.ok) this.replica.accept(message.id);
        else this.rejected(message.id, errorFromWire(message.error));
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

  /** After sync step 2: resend unanswered edits and actions (in order), then queued ones. */
  private catchUp(): void {
    this.caughtUp = true;
    if (this.awareness.getLocalState() !== null) {
      // Presence set while offline, or before this (re)subscribe: share it now.
      this.session.send({ kind: Kind.awareness, channel: this.channel, update: encodeAwarenessUpdate(this.awareness, [this.awareness.clientID]) });
    }
    for (const edit of this.replica.pendingEdits) this.sendEdit(edit);
    const resend = [...this.inflight.values()].sort((a, b) => a.id - b.id);
    for (const action of resend) this.session.send(this.actionFrame(action));
    this.pump();
    this.notifyChange();
    this.maybeSynced();
  }

  private actionFrame(action: PendingAction) {
    return { kind: Kind.action, channel: this.channel, id: action.id, name: action.name, args: action.args, seq: action.seq } as const;
  }

  /** Sends queued actions, in order, keeping at most MAX_IN_FLIGHT unanswered (the server's limit is higher). */
  private pump(): void {
    while (this.queued.length > 0 && this.inflight.size < MAX_IN_FLIGHT) {
      const action = this.queued.shift()!;
      this.inflight.set(action.id, action);
      this.session.send(this.actionFrame(action));
    }
  }

  private ack(message: Extract<DownMessage, { kind: typeof Kind.ack }>): void {
    const action = this.inflight.get(message.id);
    if (action === undefined) return;
    this.inflight.delete(message.id);
    this.replica.applyRemote(message.update);
    if (message.ok) action.resolve(message.result);
    else action.reject(errorFromWire(message.error));
    if (this.subscribed && this.caughtUp) this.pump();
    this.notifyChange();
    this.maybeSynced();
  }

  private maybeSynced(): void {
    if (this.subscribed && this.caughtUp && this.inflight.size === 0 && this.queued.length === 0) this.setStatus("synced");
  }

  private unsubscribed(error: TandemError, retry: boolean): void {
    this.subscribed = false;
    this.caughtUp = false;
    if (retry && this.session.isOnline) {
      this.setStatus("syncing");
      this.resubscribeTimer = setTimeout(() => {
        this.resubscribeTimer = null;
        if (this.session.isOnline && !this.disposed) this.online();
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
    if (this.subscribed && this.caughtUp) this.sendEdit(edit);
    this.notifyChange();
  }

  private sendEdit(edit: PendingEdit): void {
    this.session.send({ kind: Kind.edit, channel: this.channel, id: edit.id, update: edit.update });
  }

  /** A read-only replica: local edits never leave this client; the replica goes back. */
  private refuseLocal(): void {
    queueMicrotask(() => {
      if (this.replica.pendingEdits.length === 0) return;
      const discarded = this.replica.discardLocal();
      this.emitDiscarded(new Forbidden("This replica is read-only: local edits were discarded"), discarded);
    });
  }

  private rejected(id: number, error: TandemError): void {
    const discarded = this.replica.reject(id);
    if (discarded.length > 0) this.emitDiscarded(error, discarded);
  }

  private emitDiscarded(error: TandemError, discarded: PendingEdit[]): void {
    const info: DiscardedEdits = { error, updates: discarded.map((edit) => edit.update) };
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

  private emitError(error: TandemError): void {
    for (const listener of [...this.errorListeners]) listener(error);
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

  private watch(doc: Y.Doc): void {
    doc.on("update", () => this.notifyChange());
  }

  private readonly awarenessListener = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin === REMOTE || !this.subscribed) return;
    const changed = [...added, ...updated, ...removed].filter((id) => id === this.awareness.clientID);
    if (changed.length === 0) return;
    this.session.send({ kind: Kind.awareness, channel: this.channel, update: encodeAwarenessUpdate(this.awareness, changed) });
  };
}

function encodeStateVector(doc: Y.Doc): Uint8Array {
  // imported lazily to keep this module's Yjs usage to types above
  return yjs.encodeStateVector(doc);
}

import * as yjs from "yjs";

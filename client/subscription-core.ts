/**
 * The parts of one actor subscription and the steps its upstreams share (ChannelCore,
 * client/upstream/upstream.ts): the replica, the outbox, presence, the status machine,
 * the emitter and the optimistic view, what connections read of them, and how a confirmed
 * update, an answer, a refused edit or a failure lands in them. Which upstream it talks to,
 * and when it loads or takes over, is the subscription's (actor-subscription.ts).
 */
import * as Y from "yjs";
import { ActorStopped, Forbidden, InvalidState, PredictionFailed, TandemError } from "../shared/errors.ts";
import { type ConnectionStatus, StatusMachine } from "./connection-status.ts";
import { Emitter } from "./emitter.ts";
import { OptimisticView, type Predictor } from "./optimistic.ts";
import { Outbox, type OutboxAction, entryOf } from "./outbox.ts";
import type { OutboxEntry } from "./outbox-entry.ts";
import { Presence } from "./presence.ts";
import { type PendingEdit, Replica } from "./replica.ts";
import { COMPACT_AFTER, type ReplicaStore } from "./replica-store.ts";
import type { DiscardedEdits, SubscriptionEvents } from "./subscription-events.ts";
import { SyncProgressTracker } from "./sync-progress.ts";
import type { ChannelCore, MirroredAction, SubscriptionSpec, Upstream } from "./upstream/upstream.ts";

export abstract class SubscriptionCore implements ChannelCore {
  readonly replica: Replica;
  readonly presence: Presence;
  readonly outbox: Outbox;
  readonly machine = new StatusMachine((status) => this.statusChanged(status), () => new ActorStopped("The connection is disposed"));
  readonly emitter = new Emitter<SubscriptionEvents>((name) => name === "mirror" && this.bindDoc(this.boundDoc));
  /** The actor's events, by name (what `conn.on(name)` hears). */
  readonly events = new Emitter<Record<string, [unknown]>>();
  readonly optimistic: OptimisticView;
  /** Sync progress (sync-progress.ts): loading, the first sync, an outbox flush. */
  readonly progress = new SyncProgressTracker((progress) => this.emitter.emit("progress", progress));
  actorId: string | null = null;
  connId: string | null = null;
  canEdit: boolean | null = null;
  /** The server or the leader tab; null until loaded (the role is known then). */
  protected upstream: Upstream | null = null;
  private boundDoc: Y.Doc | null = null;

  constructor(
    readonly spec: SubscriptionSpec,
    readonly tabId: string,
    readonly store: ReplicaStore,
    predictors: Readonly<Record<string, Predictor>>,
  ) {
    this.presence = new Presence(tabId);
    this.outbox = new Outbox({
      changed: () => {
        this.notifyOutbox();
        this.upstream?.refreshStatus();
      },
      settling: () => this.optimistic.invalidate(),
      answered: () => {
        this.notifyChange();
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
    this.optimistic = new OptimisticView(predictors, (action, error) =>
      this.emitter.emit("error", new PredictionFailed(`The optimistic handler of "${action.name}" threw: ${String(error)}`)),
    );
  }

  get disposed(): boolean {
    return this.machine.state === "disposed";
  }

  get status(): ConnectionStatus {
    return this.machine.status;
  }

  get awareness(): Presence["awareness"] {
    return this.presence.awareness;
  }

  get pending(): number {
    return this.queue().length + this.replica.pendingEdits.length;
  }

  /** This tab's own actions and edits not yet answered (what a flush counts). */
  get ownPending(): number {
    return this.outbox.size + this.replica.pendingEdits.length;
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

  /** The actions this tab shows as pending, oldest first (the upstream's view of them). */
  protected queue(): readonly (OutboxAction | MirroredAction)[] {
    return this.upstream === null ? this.outbox.list : this.upstream.queue(this.outbox.list);
  }

  whenSynced(): Promise<void> {
    return this.machine.whenSynced();
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
    this.progress.caughtUp(this.ownPending);
    this.notifyChange();
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
    this.progress.stopped();
    this.emitter.emit("error", error);
    this.emitter.emit("failed", error);
    this.notifyOutbox();
  }

  rejectEdit(id: number, error: TandemError): void {
    const discarded = this.replica.reject(id);
    if (discarded.length > 0) this.discarded(error, discarded);
  }

  /** The server's state moved to another version: unanswered edits made on the old one are discarded, never sent. */
  versionMoved(from: number, to: number): void {
    const edits = this.replica.discardLocal();
    if (edits.length > 0) this.discarded(new InvalidState(`The actor's state moved from version ${from} to ${to}: local edits made on version ${from} were discarded`), edits);
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
    if (this.progress.flushing) this.progress.update(this.ownPending); // pending may have changed
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
  protected bindDoc(doc: Y.Doc | null): void {
    this.boundDoc?.off("update", this.mirrorListener);
    this.boundDoc = doc;
    if (doc !== null && this.emitter.heard("mirror")) doc.on("update", this.mirrorListener);
  }

  private readonly mirrorListener = (update: Uint8Array): void => {
    this.emitter.emit("mirror", update);
  };
}

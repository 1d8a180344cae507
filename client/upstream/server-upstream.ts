/**
 * The upstream of a leader (or lone) tab: the actor channel on the client's WebSocket
 * (client/session.ts). It sends subscribe, actions (with their seqs), edits, presence and
 * params, and dispatches the server's frames to the subscription's parts.
 */
import * as Y from "yjs";
import { type TandemError, errorFromWire } from "../../shared/errors.ts";
import { stateVersionOf } from "../../shared/state/index.ts";
import { type DownMessage, Kind, LIVE_AUTH_PROTOCOL_VERSION, unexpectedCase } from "../../shared/protocol/index.ts";
import type { OutboxAction } from "../outbox.ts";
import type { PendingEdit } from "../replica.ts";
import type { LoadedReplica } from "../replica-store.ts";
import type { ClientSession, SessionChannel } from "../session.ts";
import type { ChannelCore, Upstream } from "./upstream.ts";

type Ack = Extract<DownMessage, { kind: typeof Kind.ack }>;

export class ServerUpstream implements Upstream, SessionChannel {
  readonly role = "leader";
  private channel = 0;
  private subscribed = false;
  private caught = false;
  private resubscribeTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Resubscribes since the channel last made progress (an action answered, or caught up with
   * nothing to send): each waits longer, so a channel the server keeps closing (storage full
   * or unreachable, an actor's node not reachable yet) does not reload it over and over.
   */
  private retries = 0;
  /** setParams calls waiting for the server's authResult, by id. */
  private readonly authWaiters = new Map<number, { resolve(): void; reject(error: unknown): void }>();
  private authIds = 0;

  constructor(
    private readonly core: ChannelCore,
    private readonly session: ClientSession,
  ) {}

  get live(): boolean {
    return this.subscribed && this.caught;
  }

  attach(): void {
    this.core.presence.serveBrowser((update) => {
      if (this.subscribed) this.session.send({ kind: Kind.awareness, channel: this.channel, update });
    });
    this.channel = this.session.attach(this);
  }

  detach(): void {
    if (this.channel !== 0) this.session.detach(this.channel);
    this.channel = 0;
  }

  restore(stored: LoadedReplica): void {
    for (const edit of stored.edits) this.core.replica.restoreEdit(edit.update, edit.key);
    this.core.outbox.restore(stored.outbox);
  }

  keepEdit(edit: PendingEdit): void {
    edit.storageKey = this.core.store.addEdit(edit.update);
  }

  dropEdits(edits: readonly PendingEdit[]): void {
    this.core.store.dropEdits(edits.flatMap((edit) => (edit.storageKey ? [edit.storageKey] : [])));
  }

  sendEdit(edit: PendingEdit): void {
    this.session.send({ kind: Kind.edit, channel: this.channel, id: edit.id, update: edit.update });
  }

  queue(own: readonly OutboxAction[]): readonly OutboxAction[] {
    return own;
  }

  refreshStatus(): void {
    if (this.live && this.core.outbox.drained) this.core.machine.to("synced");
  }

  /** Live auth (protocol ≥ 3): the server runs onAuth again; older servers: subscribe again. */
  setParams(params: unknown): Promise<void> {
    if (!this.subscribed) return Promise.resolve();
    if (this.session.serverVersion < LIVE_AUTH_PROTOCOL_VERSION) {
      this.detach();
      this.attach();
      return this.core.whenSynced();
    }
    const id = ++this.authIds;
    return new Promise<void>((resolve, reject) => {
      this.authWaiters.set(id, { resolve, reject });
      if (!this.session.send({ kind: Kind.auth, channel: this.channel, id, params })) {
        this.authWaiters.delete(id);
        resolve();
      }
    });
  }

  /** Forgets the document and what storage holds, and subscribes anew (whenSynced waits for it). */
  async reset(error: TandemError): Promise<void> {
    const core = this.core;
    core.replica.clear();
    this.caught = false;
    core.outbox.close();
    if (core.machine.status === "synced") core.machine.to("syncing");
    core.optimistic.invalidate();
    await core.store.clear(false);
    core.emitter.emit("doc", { doc: core.replica.doc, discarded: { error, updates: [] } });
    core.emitReplaced(error);
    if (this.channel !== 0) {
      this.session.detach(this.channel);
      this.subscribed = false;
      this.channel = this.session.attach(this);
    }
  }

  dispose(): void {
    this.clearResubscribe();
    this.detach();
  }

  // SessionChannel

  online(): void {
    if (!this.core.machine.isLive) return; // disposed, or refused for good: never subscribes again
    this.clearResubscribe(); // this subscribe replaces any retry that was waiting
    this.caught = false;
    this.core.outbox.close();
    const { replica, spec } = this.core;
    const stateVector = replica.hasState ? Y.encodeStateVector(replica.confirmed) : new Uint8Array();
    this.core.machine.to("syncing");
    this.core.progress.syncing();
    this.session.send({ kind: Kind.subscribe, channel: this.channel, name: spec.name, target: spec.target, params: spec.params, stateVector });
  }

  offline(): void {
    if (this.core.disposed) return;
    // params sent and not answered: the next subscribe carries them, and says
    for (const waiter of this.authWaiters.values()) this.core.whenSynced().then(waiter.resolve, waiter.reject);
    this.authWaiters.clear();
    this.clearResubscribe(); // the next socket subscribes anew
    this.down();
    this.core.presence.forgetOthers();
    this.core.progress.stopped();
    this.core.machine.to("offline");
  }

  /** The actor refused this connection for good, or the server refused the client. */
  fail(error: TandemError): void {
    for (const waiter of this.authWaiters.values()) waiter.reject(error);
    this.authWaiters.clear();
    this.down();
    this.core.fail(error);
  }

  receive(message: DownMessage): void {
    const core = this.core;
    if (core.disposed) return;
    switch (message.kind) {
      case Kind.subscribed:
        this.subscribed = true;
        core.identify(message.actorId, message.connId, message.canEdit);
        if (!message.canEdit && core.replica.pendingEdits.length > 0) core.refuseLocal();
        return;
      case Kind.sync: {
        // Unanswered edits made on a state the server has since migrated are not sent (versioning).
        const before = message.step === "step2" && core.replica.pendingEdits.length > 0 ? stateVersionOf(core.replica.confirmed) : null;
        core.confirm(message.data, {});
        if (before !== null && stateVersionOf(core.replica.confirmed) !== before) core.versionMoved(before, stateVersionOf(core.replica.confirmed));
        if (message.step === "step2" && !this.caught) {
          core.progress.synced(message.data.byteLength);
          this.catchUp();
        }
        return;
      }
      case Kind.ack:
        return this.ack(message);
      case Kind.editResult:
        if (message.ok) {
          const edit = core.replica.accept(message.id);
          if (edit) core.saveConfirmed(edit.update, { editKey: edit.storageKey });
        } else core.rejectEdit(message.id, errorFromWire(message.error));
        core.notifyChange(); // pending went down
        this.refreshStatus();
        return;
      case Kind.event:
        core.emitEvent(message.name, message.payload);
        return;
      case Kind.awareness: {
        const others = core.presence.applyFromServer(message.update);
        if (others !== null) core.emitter.emit("remoteAwareness", others);
        return;
      }
      case Kind.unsubscribed:
        return this.unsubscribed(errorFromWire(message.error), message.retry);
      case Kind.authResult: {
        const waiter = this.authWaiters.get(message.id);
        this.authWaiters.delete(message.id);
        if (message.ok) waiter?.resolve();
        else waiter?.reject(errorFromWire(message.error)); // the unsubscribed that follows fails the connection
        return;
      }
      case Kind.error:
        core.emitter.emit("error", errorFromWire(message.error));
        return;
      case Kind.welcome:
      case Kind.pong:
        return;
      default:
        return unexpectedCase(message);
    }
  }

  /** Sends one action of the outbox (its `OutboxHost.send`, while caught up). */
  private readonly sendAction = (action: OutboxAction): void => {
    this.session.send({ kind: Kind.action, channel: this.channel, id: action.id, name: action.name, args: action.args, seq: action.seq });
  };

  /** After sync step 2: this browser's presence, then unanswered edits, then the outbox. */
  private catchUp(): void {
    this.caught = true;
    const presence = this.core.presence.browserUpdate();
    if (presence !== null) this.session.send({ kind: Kind.awareness, channel: this.channel, update: presence });
    this.core.caughtUp(this.sendAction);
    if (this.core.outbox.size === 0) this.retries = 0;
  }

  private ack(message: Ack): void {
    const { outbox, replica } = this.core;
    if (!message.ok && message.error.code === "actor_stopped") {
      // Not run: the actor was stopping (a deploy, a restart). It stays in the outbox and is
      // sent again, with its seq, after the next subscribe.
      outbox.requeue(message.id);
      return;
    }
    const action = outbox.take(message.id);
    if (action === undefined) return;
    this.retries = 0;
    // The state and the result land together; the prediction goes with the pending action.
    replica.applyRemote(message.update);
    try {
      this.core.outbox.settle(action, message.ok ? { ok: true, result: message.result } : { ok: false, error: errorFromWire(message.error) });
    } finally {
      // Queued once the promise is settled: the caller's next action, made as it resumes,
      // goes into the same storage batch.
      this.core.saveConfirmed(message.update, { outboxSeq: action.seq });
    }
  }

  private unsubscribed(error: TandemError, retry: boolean): void {
    this.down();
    if (retry && this.session.isOnline) {
      this.core.machine.to("syncing");
      this.clearResubscribe();
      this.resubscribeTimer = setTimeout(() => {
        this.resubscribeTimer = null;
        if (this.session.isOnline && !this.core.disposed) this.online();
      }, resubscribeDelay(this.retries++));
      return;
    }
    this.fail(error);
  }

  private down(): void {
    this.subscribed = false;
    this.caught = false;
    this.core.outbox.close();
  }

  private clearResubscribe(): void {
    if (this.resubscribeTimer !== null) clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = null;
  }
}

/** How long before the n-th resubscribe in a row (from 0): 50–250 ms, then doubling up to 2 s, half of it jittered. */
export function resubscribeDelay(retries: number): number {
  if (retries === 0) return 50 + Math.floor(Math.random() * 200);
  const ceiling = Math.min(2000, 100 * 2 ** retries);
  return Math.floor(ceiling / 2 + Math.random() * (ceiling / 2));
}

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
 *
 * Multi-tab (DESIGN §4): in the leader tab a subscription talks to the server and serves
 * the other tabs (client/tabs/relay-channel.ts); in a follower tab it talks to the leader
 * over a link channel instead — it mirrors the leader's doc and outbox, sends its actions,
 * edits and presence there, and keeps them until the leader answers. `promote()` turns a
 * follower into a leader when its tab takes over.
 */
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from "y-protocols/awareness";
import * as Y from "yjs";
import { ActorStopped, Forbidden, TandemError, errorFromWire } from "../shared/errors.ts";
import { type DownMessage, Kind, LIVE_AUTH_PROTOCOL_VERSION, type SubscribeTarget, unexpectedCase } from "../shared/protocol/index.ts";
import { OptimisticView, type PredictedAction, type Predictor } from "./optimistic.ts";
import { type PendingEdit, REMOTE, Replica } from "./replica.ts";
import { COMPACT_AFTER, type OutboxRecord, type ReplicaStore } from "./replica-store.ts";
import type { ClientSession, SessionChannel } from "./session.ts";
import type { StorageFault } from "./storage/storage.ts";
import { BrowserPresence, withoutClients } from "./tabs/browser-presence.ts";
import type { LeaderLink, LinkChannel } from "./tabs/leader-link.ts";
import type { LeaderView, LinkDown, WireOutboxEntry } from "./tabs/tab-messages.ts";

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
  /** Identifies the call across the tabs of a browser. */
  readonly callId?: string;
}

interface PendingAction extends PredictedAction {
  readonly id: number;
  readonly callId: string;
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
  /** Changed by `setParams` (a token refresh); every later subscribe carries the new ones. */
  params: unknown;
}

/** Where a subscription's frames go: the server (leader tab) or the leader tab (follower). */
export type Upstream = { readonly role: "leader"; readonly session: ClientSession } | { readonly role: "follower"; readonly link: LeaderLink };

/** What a subscription needs of its client. */
export interface SubscriptionHost {
  /** Decided once the client is ready; changes when this tab takes over. */
  upstream(): Upstream;
  /** This tab's id (presence per tab). */
  readonly tabId: string;
  /** A new call id, unique across the tabs of this storage. */
  newCallId(): string;
  readonly store: ReplicaStore;
  /** Resolves once the client's id and seq counter are loaded. */
  readonly ready: Promise<void>;
  /**
   * The next seq of this client (increasing across reloads): a number when one is reserved
   * already, else a promise of it (a block is being reserved in storage).
   */
  takeSeq(): number | Promise<number>;
  readonly predictors: Readonly<Record<string, Predictor>>;
}

type Listener<T> = (value: T) => void;

/** Why local data was thrown away: a rejected edit (and all after it), or a read-only replica. */
export interface DiscardedEdits {
  readonly error: TandemError;
  readonly updates: readonly Uint8Array[];
}

/** Actions sent and not yet answered, per channel (below the server's exactly-once result window). */
const MAX_IN_FLIGHT = 120;

/** Origin of edits a follower tab made, applied to the leader's doc (they are local edits here). */
const FOLLOWER_EDIT = Symbol("tandem.follower-edit");

/** A leader's outbox entry as a follower sees it (someone else's pending action). */
interface MirroredAction extends PredictedAction {
  readonly entry: OutboxEntry;
}

export class ActorSubscription implements SessionChannel, LinkChannel {
  readonly replica: Replica;
  /** Its doc only gives the awareness a clientID: a fixed guid spares a random uuid per connection. */
  readonly awareness = new Awareness(new Y.Doc({ guid: "tandem-awareness" }));
  status: ConnectionStatus = "connecting";
  actorId: string | null = null;
  connId: string | null = null;
  canEdit: boolean | null = null;
  refs = 0;
  /** Resolves once what storage holds is loaded into the replica and the outbox. */
  readonly loaded: Promise<void>;
  /** Resolves once the subscription works in its tab's current role (after a takeover, too). */
  roleSettled: Promise<void>;

  private role: "leader" | "follower" = "leader";
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
  /** Stores queued on `storing` and not done yet: while there are some, a new action queues too (call order). */
  private storesQueued = 0;
  /** `load()` is done (the outbox restored). */
  private isLoaded = false;
  /** The takeover under way, if any (one at a time). */
  private takingOver: Promise<void> | null = null;
  /** Takeovers under way (`promote()`): the outbox is being rebuilt from storage. */
  private promoting = 0;
  /** Outboxes rebuilt by takeovers: one stores again what was not stored before it. */
  private takeovers = 0;
  private readonly optimistic: OptimisticView;
  private readonly syncWaiters: { resolve(): void; reject(error: unknown): void }[] = [];
  /** Leader: the one presence this browser shows the server. */
  private presence: BrowserPresence | null = null;
  /** Follower: what the leader last said of its subscription (null until linked). */
  private leaderView: LeaderView | null = null;
  private mirrored: MirroredAction[] = [];
  /** Follower: the leader was lost (status offline until the next one answers). */
  private linkLost = false;
  private boundDoc: Y.Doc | null = null;
  readonly events = new Map<string, Set<Listener<unknown>>>();
  readonly statusListeners = new Set<Listener<ConnectionStatus>>();
  readonly errorListeners = new Set<Listener<TandemError>>();
  readonly changeListeners = new Set<Listener<void>>();
  readonly docListeners = new Set<Listener<{ doc: Y.Doc; discarded: DiscardedEdits }>>();
  readonly outboxListeners = new Set<Listener<readonly OutboxEntry[]>>();
  readonly settledListeners = new Set<Listener<OutboxEntry>>();
  // What the leader relays to follower tabs (client/tabs/relay-channel.ts).
  /** Every change of `doc`, whatever its origin (heard from `doc` only while someone listens: Yjs encodes updates for listeners). */
  readonly mirrorListeners: Set<Listener<Uint8Array>> = new WatchedSet(() => this.bindDoc(this.boundDoc));
  /** `doc` was replaced: its content, and why. */
  readonly replacedListeners = new Set<(snapshot: Uint8Array, error: TandemError) => void>();
  readonly anyEventListeners = new Set<(name: string, payload: unknown) => void>();
  /** Others' presence as the server sent it (this browser's own left out). */
  readonly remoteAwarenessListeners = new Set<Listener<Uint8Array>>();
  readonly failedListeners = new Set<Listener<TandemError>>();
  /** The picture a follower mirrors changed (status, outbox, actor id, canEdit). */
  readonly leaderViewListeners = new Set<Listener<LeaderView>>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** setParams calls waiting for the server's authResult, by id. */
  private readonly authWaiters = new Map<number, { resolve(): void; reject(error: unknown): void }>();
  private authIds = 0;

  constructor(
    private readonly host: SubscriptionHost,
    readonly spec: SubscriptionSpec,
  ) {
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
      this.emitError(new TandemError("prediction_failed", `The optimistic handler of "${action.name}" threw: ${String(error)}`, "client")),
    );
    this.awareness.on("update", this.awarenessListener);
    this.loaded = this.load();
    this.roleSettled = this.loaded.then(() => {
      if (this.disposed) return;
      // Loaded as a follower, but the tab took over meanwhile: what storage holds was read as
      // a follower reads it (no outbox, edits as confirmed), so take over properly.
      if (this.role === "follower" && this.host.upstream().role === "leader") return this.promote();
      this.attach();
    });
  }

  // ---------------------------------------------------------------------------------------
  // What connections read

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

  get outbox(): OutboxEntry[] {
    return this.queue().map((action) => ("entry" in action ? action.entry : entryOf(action, action.status)));
  }

  get inMemoryOnly(): boolean {
    return this.host.store.inMemory;
  }

  /**
   * The actions this tab shows as pending, oldest first. A leader: its outbox (every tab's).
   * A follower: the leader's outbox, with this tab's own actions in their places, and then
   * those of its actions the leader has not listed yet.
   */
  private queue(): (PendingAction | MirroredAction)[] {
    if (this.role === "leader" || this.mirrored.length === 0) return this.actions;
    const own = new Map(this.actions.map((action) => [action.callId, action]));
    const queue: (PendingAction | MirroredAction)[] = [];
    for (const mirror of this.mirrored) {
      const mine = mirror.entry.callId === undefined ? undefined : own.get(mirror.entry.callId);
      if (mine === undefined) queue.push(mirror);
      else {
        queue.push(mine);
        own.delete(mine.callId);
      }
    }
    for (const action of this.actions) if (own.has(action.callId)) queue.push(action);
    return queue;
  }

  // ---------------------------------------------------------------------------------------
  // Calls from the connection (and, in the leader, from follower tabs)

  call(name: string, args: readonly unknown[], callId?: string): Promise<unknown> {
    if (this.disposed) return Promise.reject(new ActorStopped("The connection is disposed"));
    if (this.failure !== null) return Promise.reject(this.failure);
    let copied: unknown[];
    try {
      copied = copyArgs(args);
    } catch (error) {
      const why = error instanceof Error ? `: ${error.message}` : "";
      return Promise.reject(new TandemError("invalid_arguments", `Action arguments must be plain data${why}`, "client", { cause: error }));
    }
    return new Promise((resolve, reject) => {
      const action: PendingAction = {
        id: this.nextActionId++,
        callId: callId ?? this.host.newCallId(),
        name,
        args: copied,
        seq: 0,
        stored: false,
        status: "queued",
        restored: false,
        resolve,
        reject,
      };
      this.actions.push(action); // its prediction shows at once
      this.store(action);
      this.notifyChange();
      this.notifyOutbox();
    });
  }

  /** Whether an action with this call id is pending here (a follower sending it again after a takeover). */
  hasCall(callId: string): boolean {
    return this.actions.some((action) => action.callId === callId);
  }

  /**
   * Stored before it is sent, in call order: seqs follow the order of calls. A follower
   * stores nothing (the leader does); its action may go to the leader at once.
   */
  private store(action: PendingAction): void {
    // The common case (a leader, loaded, nothing queued before, a seq at hand) takes its seq
    // and starts its write now; the write queue of the store keeps the call order.
    if (this.isLoaded && this.storesQueued === 0 && this.role === "leader" && this.promoting === 0) {
      const seq = this.host.takeSeq();
      if (typeof seq === "number") {
        void this.saveAction(action, seq);
        return;
      }
      this.queueStore(async () => {
        const taken = await seq;
        if (this.actions.includes(action)) await this.saveAction(action, taken);
      });
      return;
    }
    const takeovers = this.takeovers;
    // A takeover that rebuilt the outbox after this was queued stores the action again, in its place.
    const current = () => this.takeovers === takeovers && this.actions.includes(action);
    this.queueStore(async () => {
      await this.loaded;
      while (this.promoting > 0) await this.roleSettled.catch(() => undefined); // never a write during a takeover
      if (!current()) return; // reset, disposed or taken over meanwhile
      if (this.role === "follower") {
        action.stored = true;
        this.pump();
        return;
      }
      const seq = await this.host.takeSeq();
      if (current()) await this.saveAction(action, seq);
    });
  }

  private queueStore(job: () => Promise<void>): void {
    this.storesQueued++;
    this.storing = this.storing.then(job).finally(() => {
      this.storesQueued--;
    });
  }

  /** Writes the action's outbox record; once it is stored, the action may be sent. */
  private saveAction(action: PendingAction, seq: number): Promise<void> {
    const record: OutboxRecord = { seq, name: action.name, args: action.args, createdAt: Date.now(), callId: action.callId };
    return this.host.store.addAction(record).then(() => {
      action.seq = seq;
      action.stored = true;
      this.pump();
      this.notifyOutbox();
    });
  }

  /**
   * New params for this connection (a token refresh) without resubscribing: the server runs
   * onAuth again and `c.conn.auth` changes in place. Resolves once the server accepted them
   * (at once when offline: the next subscribe carries them); a refusal closes the connection
   * with the server's error and rejects. In a follower tab, and against servers older than
   * protocol 3, the channel subscribes again with the new params instead.
   */
  setParams(params: unknown): Promise<void> {
    if (this.disposed) return Promise.reject(new ActorStopped("The connection is disposed"));
    if (this.failure !== null) return Promise.reject(this.failure);
    this.spec.params = params;
    if (this.role === "follower") {
      if (this.channel !== 0) this.online();
      return this.whenSynced();
    }
    const upstream = this.host.upstream();
    if (upstream.role !== "leader" || !this.subscribed) return Promise.resolve();
    if (upstream.session.serverVersion < LIVE_AUTH_PROTOCOL_VERSION) {
      this.detach();
      this.attach();
      return this.whenSynced();
    }
    const id = ++this.authIds;
    return new Promise<void>((resolve, reject) => {
      this.authWaiters.set(id, { resolve, reject });
      if (!upstream.session.send({ kind: Kind.auth, channel: this.channel, id, params })) {
        this.authWaiters.delete(id);
        resolve();
      }
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
   * rejected) — and syncs it again from the server. For a client that is stuck. In a
   * follower tab the leader does it (for every tab) and tells this one.
   */
  async resetLocalData(): Promise<void> {
    await this.roleSettled;
    const error = new ActorStopped("Local data was reset");
    for (const action of this.actions.splice(0)) {
      action.reject?.(error);
      this.emitSettled(entryOf(action, "rejected", { error }));
    }
    this.inflight = 0;
    if (this.role === "follower") {
      this.sendLink({ kind: "reset" });
      // Not synced until the leader says so again (it resyncs for every tab): whenSynced waits.
      if (this.leaderView !== null) this.leaderView = { ...this.leaderView, status: "syncing" };
      this.refreshFollowerStatus();
      this.notifyOutbox();
      this.notifyChange();
      return;
    }
    this.replica.clear();
    // Not synced until the new subscription has caught up: whenSynced waits for the resync.
    this.caughtUp = false;
    if (this.status === "synced") this.setStatus("syncing");
    this.optimistic.invalidate();
    await this.host.store.clear(false);
    for (const listener of [...this.docListeners]) listener({ doc: this.replica.doc, discarded: { error, updates: [] } });
    this.emitReplaced(error);
    if (this.channel !== 0) {
      this.upstreamSession().detach(this.channel);
      this.subscribed = false;
      this.channel = this.upstreamSession().attach(this);
    }
    this.notifyOutbox();
    this.notifyChange();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.resubscribeTimer !== null) clearTimeout(this.resubscribeTimer);
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.detach();
    const error = new ActorStopped("The connection is disposed");
    // Stored actions stay in the outbox: a later connection (or reload) sends them.
    for (const action of this.actions.splice(0)) action.reject?.(error);
    for (const waiter of this.syncWaiters.splice(0)) waiter.reject(error);
    this.awareness.off("update", this.awarenessListener);
    this.awareness.destroy();
    this.presence?.destroy();
    this.presence = null;
    this.optimistic.dispose();
    this.bindDoc(null);
    this.replica.destroy();
  }

  // ---------------------------------------------------------------------------------------
  // Loading, roles

  private async load(): Promise<void> {
    await this.host.ready;
    this.role = this.host.upstream().role;
    const stored = await this.host.store.load();
    try {
      for (const update of stored.confirmed) Y.decodeUpdate(update);
      for (const edit of stored.edits) Y.decodeUpdate(edit.update);
    } catch (error) {
      if (this.role === "leader") await this.host.store.discardDocument("load", error);
      stored.confirmed.length = 0;
      stored.edits.length = 0;
    }
    for (const update of stored.confirmed) this.replica.applyRemote(update);
    if (this.role === "follower") {
      // The leader's unanswered edits are part of the doc it shows; it keeps them, not us.
      for (const edit of stored.edits) this.replica.applyRemote(edit.update);
    } else {
      for (const edit of stored.edits) this.replica.restoreEdit(edit.update, edit.key);
      this.actions.unshift(...stored.outbox.map((record) => this.restoredAction(record)));
    }
    this.isLoaded = true;
    this.optimistic.invalidate();
    this.notifyChange();
    this.notifyOutbox();
  }

  private restoredAction(record: OutboxRecord): PendingAction {
    return {
      id: this.nextActionId++,
      callId: record.callId ?? `restored:${record.seq}`,
      name: record.name,
      args: record.args,
      seq: record.seq,
      stored: true,
      status: "queued",
      restored: true,
    };
  }

  private attach(): void {
    const upstream = this.host.upstream();
    this.role = upstream.role;
    if (upstream.role === "leader") {
      this.presence ??= this.makePresence();
      this.channel = upstream.session.attach(this);
    } else this.channel = upstream.link.attach(this);
  }

  private detach(): void {
    if (this.channel === 0) return;
    const upstream = this.host.upstream();
    if (upstream.role === "leader" && this.role === "leader") upstream.session.detach(this.channel);
    else if (upstream.role === "follower") upstream.link.detach(this.channel);
    this.channel = 0;
  }

  private upstreamSession(): ClientSession {
    const upstream = this.host.upstream();
    if (upstream.role !== "leader") throw new Error("not the leader tab");
    return upstream.session;
  }

  /**
   * This tab took over from the leader: rebuild the replica and the outbox from storage (the
   * old leader kept them), add what this tab still held that the old leader never confirmed
   * having (actions by call id, edits), and talk to the server from now on.
   */
  promote(): Promise<void> {
    if (this.takingOver !== null) return this.takingOver;
    if (this.role === "leader" || this.disposed) return this.roleSettled;
    this.promoting++;
    this.takingOver = this.loaded
      .then(() => this.takeOver())
      .finally(() => {
        this.promoting--;
        this.takingOver = null;
      });
    this.roleSettled = this.takingOver;
    return this.takingOver;
  }

  private async takeOver(): Promise<void> {
    if (this.disposed || this.role === "leader") return;
    const link = this.channel;
    this.channel = 0;
    const old = this.host.upstream();
    if (old.role === "follower") old.link.detach(link, true);
    this.role = "leader";
    this.subscribed = false;
    this.caughtUp = false;
    this.leaderView = null;
    this.mirrored = [];
    this.inflight = 0;
    this.forgetRemotePresence();
    const stored = await this.host.store.load();
    if (this.disposed) return;
    // The document stays (editors keep their binding); the confirmed state and the unanswered
    // edits are storage's, and what the doc holds beyond them — our unanswered edits, what the
    // old leader had not stored yet — is one more edit, stored and sent.
    const extra = this.replica.rebase(stored.confirmed, stored.edits);
    if (extra !== null) extra.storageKey = this.host.store.addEdit(extra.update);
    // the outbox: storage's, in seq order, with our own calls in their places; the rest after
    const mine = new Map(this.actions.map((action) => [action.callId, action]));
    const merged: PendingAction[] = stored.outbox.map((record) => {
      const action = record.callId === undefined ? undefined : mine.get(record.callId);
      if (action === undefined) return this.restoredAction(record);
      mine.delete(action.callId);
      action.seq = record.seq;
      action.stored = true;
      action.status = "queued";
      return action;
    });
    const unstored = [...mine.values()];
    for (const action of unstored) {
      action.stored = false;
      action.status = "queued";
    }
    this.actions.splice(0, this.actions.length, ...merged, ...unstored);
    this.takeovers++; // stores queued before this give way to these
    for (const action of unstored) this.store(action);
    this.optimistic.invalidate();
    this.notifyChange();
    this.notifyOutbox();
    this.attach();
    this.presence!.set(this.host.tabId, this.awareness.getLocalState());
  }

  // ---------------------------------------------------------------------------------------
  // Session (or link) events

  online(): void {
    if (this.disposed) return;
    this.clearResubscribe(); // this subscribe replaces any retry that was waiting
    this.caughtUp = false;
    const stateVector = this.replica.hasState ? Y.encodeStateVector(this.replica.confirmed) : new Uint8Array();
    if (this.role === "follower") {
      this.sendLink({ kind: "subscribe", spec: { name: this.spec.name, target: this.spec.target, params: this.spec.params }, stateVector });
      this.refreshFollowerStatus();
      return;
    }
    this.setStatus("syncing");
    this.upstreamSession().send({ kind: Kind.subscribe, channel: this.channel, name: this.spec.name, target: this.spec.target, params: this.spec.params, stateVector });
  }

  offline(): void {
    if (this.disposed) return;
    // params sent and not answered: the next subscribe carries them, and says
    for (const waiter of this.authWaiters.values()) this.whenSynced().then(waiter.resolve, waiter.reject);
    this.authWaiters.clear();
    this.clearResubscribe(); // the next socket subscribes anew
    this.subscribed = false;
    this.caughtUp = false;
    this.forgetRemotePresence();
    if (this.role === "follower") {
      this.linkLost = true;
      this.refreshFollowerStatus();
      return;
    }
    this.setStatus("offline");
  }

  /** The actor refused this connection for good (auth, not found…), or the server refused the client. */
  fail(error: TandemError): void {
    for (const waiter of this.authWaiters.values()) waiter.reject(error);
    this.authWaiters.clear();
    this.subscribed = false;
    this.failure = error;
    for (const action of this.actions.splice(0)) action.reject?.(error);
    this.inflight = 0;
    for (const waiter of this.syncWaiters.splice(0)) waiter.reject(error);
    this.emitError(error);
    for (const listener of [...this.failedListeners]) listener(error);
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
        this.notifyFollowers();
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
        this.emitEvent(message.name, message.payload);
        return;
      case Kind.awareness: {
        // this browser's own presence (from another of its sockets, or a snapshot) is not "others"
        const update = this.presence === null ? message.update : withoutClients(message.update, new Set([this.presence.clientID]));
        if (update === null) return;
        applyAwarenessUpdate(this.awareness, update, REMOTE);
        for (const listener of [...this.remoteAwarenessListeners]) listener(update);
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
        this.emitError(errorFromWire(message.error));
        return;
      case Kind.welcome:
      case Kind.pong:
        return;
      default:
        return unexpectedCase(message);
    }
  }

  /** Follower: what the leader tab says about this subscription. */
  fromLeader(message: LinkDown): void {
    if (this.disposed || this.role !== "follower") return;
    switch (message.kind) {
      case "ready":
        this.linkLost = false;
        this.subscribed = true;
        if (message.hasState) this.replica.applyRemote(message.update);
        if (message.presence !== null) applyAwarenessUpdate(this.awareness, message.presence, REMOTE);
        this.mirrorLeader(message.leader);
        this.catchUp();
        return;
      case "update":
        this.replica.applyRemote(message.update);
        return;
      case "leader":
        this.mirrorLeader(message.leader);
        this.notifyChange();
        this.notifyOutbox();
        this.refreshFollowerStatus();
        return;
      case "ack": {
        const index = this.actions.findIndex((action) => action.id === message.id);
        if (index < 0) return;
        const [action] = this.actions.splice(index, 1);
        if (action!.status === "sent") this.inflight--;
        this.settle(action!, message.ok ? { ok: true, result: message.result } : { ok: false, error: errorFromWire(message.error) });
        return;
      }
      case "editDone":
        if (message.error === undefined) this.replica.accept(message.id);
        else this.rejected(message.id, errorFromWire(message.error));
        this.notifyChange();
        return;
      case "replaced": {
        const error = errorFromWire(message.error);
        const own = this.replica.clear();
        this.replica.applyRemote(message.snapshot);
        const info: DiscardedEdits = { error, updates: own.map((edit) => edit.update) };
        for (const listener of [...this.docListeners]) listener({ doc: this.replica.doc, discarded: info });
        if (own.length > 0) this.emitError(error);
        this.optimistic.invalidate();
        this.notifyChange();
        return;
      }
      case "event":
        this.emitEvent(message.name, message.payload);
        return;
      case "awareness":
        applyAwarenessUpdate(this.awareness, message.update, REMOTE);
        return;
      case "settled":
        this.emitSettled(entryFromWire(message.entry));
        return;
      case "failed":
        this.fail(errorFromWire(message.error));
        return;
      case "error":
        this.emitError(errorFromWire(message.error));
        return;
      default:
        return unexpectedCase(message);
    }
  }

  // ---------------------------------------------------------------------------------------
  // What the leader offers follower tabs (client/tabs/relay-channel.ts)

  /** The picture a follower mirrors. */
  leaderSnapshot(): LeaderView {
    return {
      status: this.status,
      actorId: this.actorId,
      connId: this.connId,
      canEdit: this.canEdit,
      outbox: this.actions.map((action) => entryToWire(entryOf(action, action.status))),
    };
  }

  /** Others' presence, for a follower that just linked (null when there is none). */
  remotePresence(): Uint8Array | null {
    const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.awareness.clientID);
    return others.length === 0 ? null : encodeAwarenessUpdate(this.awareness, others);
  }

  /** A follower tab's direct edit: applied to this doc as a local edit; resolves once stored (or why not). */
  async applyFollowerEdit(update: Uint8Array): Promise<TandemError | undefined> {
    await this.roleSettled;
    if (this.canEdit === false) return new Forbidden("This replica is read-only: local edits were discarded");
    try {
      Y.applyUpdate(this.replica.doc, update, FOLLOWER_EDIT);
    } catch {
      return new TandemError("malformed_frame", "The edit is not a valid Yjs update", "client");
    }
    await this.host.store.flushed();
    return undefined;
  }

  /** A tab's local presence (undefined: the tab left). */
  presenceOf(tab: string, state: Record<string, unknown> | null | undefined): void {
    if (this.presence === null) return;
    if (state === undefined) this.presence.leave(tab);
    else this.presence.set(tab, state);
  }

  // ---------------------------------------------------------------------------------------
  // Internals

  /** After sync step 2 (or the leader's ready): presence, then unanswered edits, then the outbox, in order. */
  private catchUp(): void {
    this.caughtUp = true;
    const local = this.awareness.getLocalState();
    if (this.role === "follower") this.sendLink({ kind: "presence", state: local });
    else if (this.presence !== null && this.presence.outgoing.getLocalState() !== null) {
      this.upstreamSession().send({ kind: Kind.awareness, channel: this.channel, update: encodeAwarenessUpdate(this.presence.outgoing, [this.presence.clientID]) });
    }
    for (const edit of this.replica.pendingEdits) this.sendEdit(edit);
    this.inflight = 0;
    for (const action of this.actions) if (action.status === "sent") action.status = "queued"; // resent with the same seq (or call id)
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
      if (this.role === "follower") this.sendLink({ kind: "action", id: action.id, callId: action.callId, name: action.name, args: action.args });
      else this.upstreamSession().send({ kind: Kind.action, channel: this.channel, id: action.id, name: action.name, args: action.args, seq: action.seq });
    }
    if (sent) {
      this.notifyOutbox();
      this.refreshFollowerStatus();
    }
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
    this.replica.applyRemote(message.update);
    try {
      this.settle(action, message.ok ? { ok: true, result: message.result } : { ok: false, error: errorFromWire(message.error) });
    } finally {
      // Queued once the promise is settled: the caller's next action, made as it resumes,
      // goes into the same storage batch.
      this.saveConfirmed(message.update, { outboxSeq: action.seq });
    }
  }

  /** An action left the outbox: its promise, the listeners, the next ones. */
  private settle(action: PendingAction, outcome: { ok: true; result: unknown } | { ok: false; error: TandemError }): void {
    this.optimistic.invalidate();
    const heard = this.settledListeners.size > 0;
    if (outcome.ok) {
      action.resolve?.(outcome.result);
      if (heard) this.emitSettled(entryOf(action, "confirmed", { result: outcome.result }));
    } else {
      action.reject?.(outcome.error);
      if (heard) this.emitSettled(entryOf(action, "rejected", { error: outcome.error }));
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
    if (this.role === "follower") return this.refreshFollowerStatus();
    if (this.subscribed && this.caughtUp && this.inflight === 0 && !this.actions.some((action) => action.stored)) this.setStatus("synced");
  }

  /** A follower is as synced as its leader, once the leader has answered all of its actions. */
  private refreshFollowerStatus(): void {
    if (this.role !== "follower" || this.failure !== null) return;
    const leader = this.leaderView;
    if (!this.caughtUp || leader === null) this.setStatus(this.linkLost ? "offline" : "connecting");
    else if (leader.status !== "synced") this.setStatus(leader.status);
    else this.setStatus(this.actions.length > 0 ? "syncing" : "synced");
  }

  private mirrorLeader(view: LeaderView): void {
    this.leaderView = view;
    this.actorId = view.actorId;
    this.connId = view.connId;
    const wasEditable = this.canEdit;
    this.canEdit = view.canEdit;
    if (view.canEdit === false && wasEditable !== false && this.replica.pendingEdits.length > 0) this.refuseLocal();
    this.mirrored = view.outbox.map((wire) => {
      const entry = entryFromWire(wire);
      return { name: entry.name, args: entry.args, entry };
    });
    this.optimistic.invalidate();
  }

  private clearResubscribe(): void {
    if (this.resubscribeTimer !== null) clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = null;
  }

  private unsubscribed(error: TandemError, retry: boolean): void {
    this.subscribed = false;
    this.caughtUp = false;
    const session = this.upstreamSession();
    if (retry && session.isOnline) {
      this.setStatus("syncing");
      this.clearResubscribe();
      this.resubscribeTimer = setTimeout(() => {
        this.resubscribeTimer = null;
        if (session.isOnline && !this.disposed && this.role === "leader") this.online();
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
    if (this.role === "leader") edit.storageKey = this.host.store.addEdit(edit.update);
    if (this.subscribed && this.caughtUp) this.sendEdit(edit);
  }

  private sendEdit(edit: PendingEdit): void {
    if (this.role === "follower") this.sendLink({ kind: "edit", id: edit.id, update: edit.update });
    else this.upstreamSession().send({ kind: Kind.edit, channel: this.channel, id: edit.id, update: edit.update });
  }

  private sendLink(message: Parameters<LeaderLink["send"]>[1]): void {
    const upstream = this.host.upstream();
    if (upstream.role === "follower" && this.channel !== 0) upstream.link.send(this.channel, message);
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
    if (this.role === "leader") this.host.store.dropEdits(edits.flatMap((edit) => (edit.storageKey ? [edit.storageKey] : [])));
    const info: DiscardedEdits = { error, updates: edits.map((edit) => edit.update) };
    for (const listener of [...this.docListeners]) listener({ doc: this.replica.doc, discarded: info });
    this.emitError(error);
    this.emitReplaced(error);
    this.notifyChange();
  }

  private emitReplaced(error: TandemError): void {
    if (this.replacedListeners.size === 0) return;
    const snapshot = Y.encodeStateAsUpdate(this.replica.doc);
    for (const listener of [...this.replacedListeners]) listener(snapshot, error);
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

  private makePresence(): BrowserPresence {
    const presence = new BrowserPresence(this.awareness.clientID);
    presence.outgoing.on("update", ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin === REMOTE || !this.subscribed || this.role !== "leader") return;
      const changed = [...added, ...updated, ...removed].filter((id) => id === presence.clientID);
      if (changed.length === 0) return;
      this.upstreamSession().send({ kind: Kind.awareness, channel: this.channel, update: encodeAwarenessUpdate(presence.outgoing, changed) });
    });
    const local = this.awareness.getLocalState();
    if (local !== null) presence.set(this.host.tabId, local);
    return presence;
  }

  /** Leader: every change of `doc` goes to the follower tabs' mirrors (if there are any). */
  private bindDoc(doc: Y.Doc | null): void {
    this.boundDoc?.off("update", this.mirrorListener);
    this.boundDoc = doc;
    if (doc !== null && this.mirrorListeners.size > 0) doc.on("update", this.mirrorListener);
  }

  private readonly mirrorListener = (update: Uint8Array): void => {
    if (this.role !== "leader" || this.mirrorListeners.size === 0) return;
    for (const listener of [...this.mirrorListeners]) listener(update);
  };

  private emitEvent(name: string, payload: unknown): void {
    for (const listener of [...(this.events.get(name) ?? [])]) listener(payload);
    for (const listener of [...this.anyEventListeners]) listener(name, payload);
  }

  private emitError(error: TandemError): void {
    for (const listener of [...this.errorListeners]) listener(error);
  }

  private emitSettled(entry: OutboxEntry): void {
    if (this.settledListeners.size === 0) return;
    for (const listener of [...this.settledListeners]) listener(entry);
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    if (status === "synced") for (const waiter of this.syncWaiters.splice(0)) waiter.resolve();
    if (this.statusListeners.size > 0) for (const listener of [...this.statusListeners]) listener(status);
    this.notifyFollowers();
  }

  private notifyChange(): void {
    if (this.changeListeners.size === 0) return;
    for (const listener of [...this.changeListeners]) listener();
  }

  private notifyOutbox(): void {
    this.notifyFollowers();
    if (this.outboxListeners.size === 0) return;
    const entries = this.outbox;
    for (const listener of [...this.outboxListeners]) listener(entries);
  }

  /** Leader: the follower tabs' picture changed (coalesced: an outbox of 1,000 acks is one message per turn). */
  private notifyFollowers(): void {
    if (this.role !== "leader" || this.leaderViewListeners.size === 0 || this.flushTimer !== null) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      if (this.disposed || this.role !== "leader") return;
      const view = this.leaderSnapshot();
      for (const listener of [...this.leaderViewListeners]) listener(view);
    }, 0);
  }

  private readonly awarenessListener = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin === REMOTE) return;
    const changed = [...added, ...updated, ...removed].filter((id) => id === this.awareness.clientID);
    if (changed.length === 0) return;
    const state = this.awareness.getLocalState();
    if (this.role === "leader") this.presence?.set(this.host.tabId, state);
    else if (this.caughtUp) this.sendLink({ kind: "presence", state });
  };
}

/** A listener set that says when its listeners change (to listen upstream only while someone does). */
class WatchedSet<T> extends Set<T> {
  constructor(private readonly changed: () => void) {
    super();
  }

  override add(value: T): this {
    const size = this.size;
    super.add(value);
    if (this.size !== size) this.changed();
    return this;
  }

  override delete(value: T): boolean {
    const deleted = super.delete(value);
    if (deleted) this.changed();
    return deleted;
  }

  override clear(): void {
    super.clear();
    this.changed();
  }
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

function entryOf(action: PendingAction, status: OutboxEntry["status"], outcome: { result?: unknown; error?: TandemError } = {}): OutboxEntry {
  return { seq: action.seq, name: action.name, args: action.args, status, restored: action.restored, callId: action.callId, ...outcome };
}

export function entryToWire(entry: OutboxEntry): WireOutboxEntry {
  const { error, ...rest } = entry;
  return error === undefined ? rest : { ...rest, error: error.toWire() };
}

function entryFromWire(wire: WireOutboxEntry): OutboxEntry {
  const { error, ...rest } = wire;
  return error === undefined ? rest : { ...rest, error: errorFromWire(error) };
}

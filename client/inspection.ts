/**
 * The client's read-only inspection API (`client.inspect()`), what devtools read: this tab's
 * role among the tabs, and a snapshot of every live connection (status, state, outbox with
 * recently settled entries, predictions applied, unconfirmed direct edits, sync progress).
 *
 * Cheap when nobody looks: nothing is listened to or computed until `subscribe` is called;
 * snapshots are built only when `snapshot()` is called. While subscribed, the inspector
 * listens to each subscription's events and keeps the last MAX_SETTLED settled entries of
 * each (confirmed or rejected) — entries settled before it subscribed are not known.
 * Snapshots are plain data: changing them changes nothing in the client.
 * @public
 */
import { stateRoot } from "../shared/state/index.ts";
import type { SubscribeTarget } from "../shared/protocol/index.ts";
import type { ActorSubscription } from "./actor-subscription.ts";
import type { ConnectionStatus } from "./connection-status.ts";
import type { OutboxEntry } from "./outbox-entry.ts";
import type { SyncProgress } from "./sync-progress.ts";

/** Settled entries kept per connection while inspected (oldest dropped first). */
export const MAX_SETTLED = 50;

/** This tab among the tabs sharing the client's storage. */
export interface TabSnapshot {
  /** "alone": no tab sharing (memory storage, `multiTab: false`, no BroadcastChannel); "leader": holds the socket and the outbox; "follower": relays through the leader. */
  readonly role: "alone" | "leader" | "follower";
  readonly tabId: string;
  /** The leading tab's id (this tab's when it leads); null when alone or no leader is known yet. */
  readonly leaderTab: string | null;
  /** The leader's term (0 when alone). */
  readonly epoch: number;
}

export interface ConnectionSnapshot {
  /** Unique among this client's live connections (actor and params). */
  readonly id: string;
  readonly name: string;
  readonly target: SubscribeTarget;
  readonly actorId: string | null;
  readonly status: ConnectionStatus;
  readonly canEdit: boolean | null;
  /** `connect()` calls sharing this connection. */
  readonly refs: number;
  /** The document's state as plain data: confirmed plus unconfirmed direct edits (no predictions); null before any state. */
  readonly state: Record<string, unknown> | null;
  /** Pending actions, oldest first (queued or sent). */
  readonly outbox: readonly OutboxEntry[];
  /** The last settled actions (confirmed or rejected with its error), oldest first, since the inspector subscribed. */
  readonly settled: readonly OutboxEntry[];
  /** Pending actions whose optimistic prediction is applied to `conn.state`. */
  readonly predictions: readonly { readonly seq: number; readonly name: string }[];
  /** Direct edits of the doc not yet answered by the server. */
  readonly unconfirmedEdits: { readonly count: number; readonly bytes: number };
  readonly progress: SyncProgress | null;
  /** A storage write failed: the replica lives in memory from then on (the client's `storage` says which kind it uses). */
  readonly inMemory: boolean;
}

export interface ClientSnapshot {
  readonly clientId: string;
  /** The storage kind ("indexeddb", "memory", …). */
  readonly storage: string;
  readonly tab: TabSnapshot;
  readonly connections: readonly ConnectionSnapshot[];
}

export interface ClientInspector {
  /** What the client looks like now (built on each call). */
  snapshot(): ClientSnapshot;
  /** Called (at most once per microtask) after anything a snapshot shows may have changed. */
  subscribe(listener: () => void): () => void;
}

/** What the inspector reads of the client core. */
export interface InspectedClient {
  readonly clientId: string;
  readonly storageKind: string;
  tab(): TabSnapshot;
  liveSubscriptions(): ReadonlyMap<string, ActorSubscription>;
  /** Calls `listener` when a subscription is added or removed; returns how to stop. */
  watchSubscriptions(listener: () => void): () => void;
}

export class Inspector implements ClientInspector {
  private readonly listeners = new Set<() => void>();
  private readonly watched = new Map<ActorSubscription, { settled: OutboxEntry[]; stop: (() => void)[] }>();
  private stopWatching: (() => void) | null = null;
  private scheduled = false;

  constructor(private readonly client: InspectedClient) {}

  snapshot(): ClientSnapshot {
    const connections: ConnectionSnapshot[] = [];
    for (const [id, subscription] of this.client.liveSubscriptions()) connections.push(this.connectionOf(id, subscription));
    return { clientId: this.client.clientId, storage: this.client.storageKind, tab: this.client.tab(), connections };
  }

  subscribe(listener: () => void): () => void {
    const wrapped = () => listener();
    this.listeners.add(wrapped);
    if (this.listeners.size === 1) this.start();
    return () => {
      if (!this.listeners.delete(wrapped)) return;
      if (this.listeners.size === 0) this.stop();
    };
  }

  private connectionOf(id: string, subscription: ActorSubscription): ConnectionSnapshot {
    const { replica } = subscription;
    const outbox = subscription.entries;
    const predictions = outbox.filter((entry) => subscription.optimistic.hasPredictor(entry.name)).map((entry) => ({ seq: entry.seq, name: entry.name }));
    let bytes = 0;
    for (const edit of replica.pendingEdits) bytes += edit.update.byteLength;
    return {
      id,
      name: subscription.spec.name,
      target: subscription.spec.target,
      actorId: subscription.actorId,
      status: subscription.status,
      canEdit: subscription.canEdit,
      refs: subscription.refs,
      state: replica.hasState ? stateRoot(replica.doc).toJSON() : null,
      outbox,
      settled: [...(this.watched.get(subscription)?.settled ?? [])],
      predictions,
      unconfirmedEdits: { count: replica.pendingEdits.length, bytes },
      progress: subscription.progress.progress,
      inMemory: subscription.inMemoryOnly,
    };
  }

  private start(): void {
    this.stopWatching = this.client.watchSubscriptions(() => {
      this.sync();
      this.changed();
    });
    this.sync();
  }

  private stop(): void {
    this.stopWatching?.();
    this.stopWatching = null;
    for (const { stop } of this.watched.values()) for (const each of stop) each();
    this.watched.clear();
  }

  /** Listens to the subscriptions there are now, and forgets those gone. */
  private sync(): void {
    const live = new Set(this.client.liveSubscriptions().values());
    for (const [subscription, { stop }] of this.watched) {
      if (live.has(subscription)) continue;
      for (const each of stop) each();
      this.watched.delete(subscription);
    }
    for (const subscription of live) {
      if (this.watched.has(subscription)) continue;
      const settled: OutboxEntry[] = [];
      const changed = () => this.changed();
      const { emitter } = subscription;
      const stop = [
        emitter.on("view", changed),
        emitter.on("change", changed),
        emitter.on("progress", changed),
        emitter.on("settled", (entry) => {
          settled.push(entry);
          if (settled.length > MAX_SETTLED) settled.splice(0, settled.length - MAX_SETTLED);
          changed();
        }),
      ];
      this.watched.set(subscription, { settled, stop });
    }
  }

  /** Tells the listeners once per microtask; a listener that throws is logged and never stops the others. */
  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      for (const listener of [...this.listeners]) {
        try {
          listener();
        } catch (error) {
          console.error("A client inspector listener threw:", error);
        }
      }
    });
  }
}

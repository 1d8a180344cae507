/**
 * `createClient<typeof registry>(url, options)`: the typed client for browsers and Node.
 * Handles make stateless HTTP calls; `connect()` opens a live replica over the client's one
 * WebSocket (shared by every actor, ref-counted per actor and params).
 * @public
 */
import type { SubscribeTarget } from "../shared/protocol/index.ts";
import { makeClientFacade } from "../shared/client-facade.ts";
import { ActorSubscription, type UpstreamRoute } from "./actor-subscription.ts";
import type { Predictor } from "./optimistic.ts";
import { ReplicaStore } from "./replica-store.ts";
import { hasIndexedDb, indexedDbStorage } from "./storage/indexeddb.ts";
import { memoryStorage } from "./storage/memory.ts";
import { type ClientStorage, StorageFault } from "./storage/storage.ts";
import { makeConnection } from "./connection.ts";
import { type FetchLike, HttpCaller, type HttpTarget } from "./http.ts";
import { defaultFetcher } from "./transport/http-node.ts";
import { ClientSession } from "./session.ts";
import type { BackoffOptions } from "./transport/backoff.ts";
import type { HeartbeatOptions } from "./transport/heartbeat.ts";
import type { SocketFactory } from "./transport/websocket.ts";
import { FollowerHub } from "./tabs/follower-hub.ts";
import { LeaderLink } from "./tabs/leader-link.ts";
import { TabCoordinator } from "./tabs/tab-coordinator.ts";
import { type MultiTabOptions, holdStorageLock, multiTabApis } from "./tabs/tab-apis.ts";
import { ClientIdentity } from "./client-identity.ts";
import { type HandleHost, type HandleSpec, networkTransport, specOfLink } from "./handles.ts";
import type { Client, ClientStateVersions, OptimisticHandlers } from "./types.ts";
import { type InspectedClient, Inspector, type TabSnapshot } from "./inspection.ts";

export type { MultiTabOptions };

export interface ClientOptions<R = unknown> {
  /**
   * Where replicas and the outbox live. Default: IndexedDB ("tandem <server url>") in browsers, memory
   * elsewhere. Two clients over the same storage are the same client (one id, one outbox).
   */
  storage?: ClientStorage;
  /** Predictions of actions, applied at once to what `conn.state` shows until the server answers. */
  optimistic?: OptimisticHandlers<R>;
  /**
   * The state version this build of the app expects per actor kind (`stateVersionsOf(registry)`,
   * or the numbers by hand): a replica stored by another version is never shown — it is
   * dropped when it loads (its unanswered direct edits with it; the outbox stays) and synced
   * anew. Without it, a replica stored by an older version shows until it syncs, then merges
   * the server's migration (docs/versioning.md).
   */
  stateVersions?: ClientStateVersions<R>;
  /** How to open a WebSocket (tests, proxies). Default: the platform's, or `ws` in Node. */
  socketFactory?: SocketFactory;
  /** How to make stateless HTTP calls. Default: in Node, `node:http` over a keep-alive agent (cheaper per call than undici's fetch); elsewhere, the global fetch. */
  fetch?: FetchLike;
  /** This client's id (exactly-once identity). Default: the one in storage, or a new random UUID. */
  clientId?: string;
  /** Reconnect backoff (full jitter). */
  backoff?: BackoffOptions;
  /**
   * How a silently dead link is noticed: after `intervalMs` (default 5 s) without a frame
   * the client pings the server, and a ping unanswered for `timeoutMs` (default 5 s) closes
   * the socket (status "offline"), reconnects and resends the outbox. `intervalMs: 0` turns it off.
   */
  heartbeat?: HeartbeatOptions;
  /**
   * Tabs of one origin over the same storage share one connection (README.md "Local-first"): a leader tab
   * holds the only WebSocket and the outbox, the others relay through it over a
   * BroadcastChannel, and another takes over when it closes. On by default where Web Locks
   * and BroadcastChannel exist and the storage is shared (IndexedDB); `false` gives each tab
   * its own connection. Tests may pass their own locks and channels.
   */
  multiTab?: false | MultiTabOptions;
}

class ClientCore implements HandleHost, InspectedClient {
  /** The client id and the seq counter. */
  private readonly identity: ClientIdentity;
  /** This tab's id (call ids, presence per tab). */
  readonly tabId = crypto.randomUUID();
  private calls = 0;
  /** Tabs sharing this storage: who leads (null when each tab has its own connection). */
  private tabs: TabCoordinator | null = null;
  private link: LeaderLink | null = null;
  private hub: FollowerHub | null = null;
  private started = false;
  /** The storage in use: the configured one, or memory when another tab owns it. */
  storage: ClientStorage;
  /** Storage seen through `this.storage` as it is when used (it may change during init). */
  private readonly storageView: ClientStorage;
  private storageNote: StorageFault | null = null;
  /** The client's id and seq counter, from storage. */
  readonly ready: Promise<void>;
  private session: ClientSession | null = null;
  private readonly http: HttpCaller;
  private readonly subscriptions = new Map<string, ActorSubscription>();
  private readonly stores = new Map<string, ReplicaStore>();
  /** Who hears subscriptions come and go (the inspector, while subscribed). */
  private readonly subscriptionWatchers = new Set<() => void>();
  private inspector: Inspector | null = null;

  constructor(
    private readonly url: string,
    private readonly options: ClientOptions<unknown>,
  ) {
    // One database per server URL: replicas of two servers never mix.
    this.storage = options.storage ?? (hasIndexedDb() ? indexedDbStorage(`tandem ${new URL(url).origin}${new URL(url).pathname}`) : memoryStorage());
    const fetcher = options.fetch ?? defaultFetcher();
    this.http = new HttpCaller(url, fetcher);
    const core = this;
    this.storageView = {
      kind: "view",
      get: (key) => core.storage.get(key),
      list: (prefix) => core.storage.list(prefix),
      batch: (puts, deletes) => core.storage.batch(puts, deletes),
      clear: (prefix) => core.storage.clear(prefix),
    };
    this.identity = new ClientIdentity(() => this.storage, options.clientId, () => this.ready);
    this.ready = this.init();
    void this.ready.then(() => this.identity.markReady());
  }

  private async init(): Promise<void> {
    const shared = this.storage.shared;
    const apis = shared === undefined ? null : multiTabApis(this.options.multiTab);
    if (shared !== undefined && apis !== null) {
      // One client id and one outbox per storage: the tabs elect a leader that alone sends.
      this.tabs = new TabCoordinator({
        name: shared,
        tabId: this.tabId,
        locks: apis.locks,
        channel: apis.channel(`tandem ${shared}`),
        readEpoch: async () => {
          const epoch = await this.storage.get("c:epoch");
          return typeof epoch === "number" && Number.isSafeInteger(epoch) ? epoch : 0;
        },
        writeEpoch: (epoch) => this.storage.batch([["c:epoch", epoch]]),
        handlers: {
          becameLeader: () => this.becameLeader(),
          fromFollower: (tab, channel, message) => this.hub?.receive(tab, channel, message),
          tabGone: (tab) => this.hub?.tabGone(tab),
          leaderChanged: () => {
            this.link?.leaderChanged();
            if (this.clientId === "") void this.identity.load(false);
          },
          fromLeader: (channel, message) => this.link?.receive(channel, message),
        },
      });
      this.link = new LeaderLink(this.tabs);
      (globalThis as { addEventListener?: (type: string, listener: (event: { persisted?: boolean }) => void) => void }).addEventListener?.("pagehide", this.onPageHide);
      await this.tabs.start();
      if (this.tabs.role === "follower") await this.identity.load(false);
      this.started = true;
      return;
    }
    // Without BroadcastChannel there is no leader to relay through: a second tab over the
    // same IndexedDB keeps its data in memory instead of sharing seqs.
    if (shared !== undefined && !(await holdStorageLock(shared))) {
      this.storage = memoryStorage();
      this.storageNote = new StorageFault("open", new Error("another tab of this app holds the local storage; this tab keeps its data in memory"));
    }
    await this.identity.load(true);
    this.started = true;
  }

  private readonly onPageHide = (event: { persisted?: boolean }): void => {
    if (!event.persisted) this.tabs?.dispose();
  };

  /** This tab leads: the client id and seqs are its to use, follower tabs are its to serve. */
  private async becameLeader(): Promise<void> {
    await this.identity.load(true);
    this.hub ??= new FollowerHub({
      acquire: (spec) => this.acquire(specOfLink(spec)),
      send: (tab, channel, message) => this.tabs?.sendDown(tab, channel, message),
    });
    if (!this.started) return; // subscriptions made meanwhile attach as leader once ready
    await Promise.all([...this.subscriptions.values()].map((subscription) => subscription.promote()));
  }

  /** Where subscriptions send: the server from the leader (or a lone tab), the leader from a follower. */
  upstream(): UpstreamRoute {
    if (this.tabs !== null && this.tabs.role === "follower" && this.link !== null) return { role: "follower", link: this.link };
    return { role: "leader", session: this.sessionOf() };
  }

  get clientId(): string {
    return this.identity.clientId;
  }

  newCallId(): string {
    return `${this.tabId}:${++this.calls}`;
  }


  private sessionOf(): ClientSession {
    this.session ??= new ClientSession(this.url, {
      clientId: () => this.clientId,
      epoch: () => (this.tabs?.role === "leader" ? this.tabs.epoch : 0),
      socketFactory: this.options.socketFactory, backoff: this.options.backoff, heartbeat: this.options.heartbeat });
    return this.session;
  }

  httpTarget(spec: HandleSpec): HttpTarget {
    return { name: spec.name, key: spec.key, id: spec.id, mode: spec.mode, input: spec.input, params: spec.params };
  }

  call(spec: HandleSpec, action: string, args: unknown[]): Promise<unknown> {
    return this.http.action(this.httpTarget(spec), action, args);
  }

  resolve(spec: HandleSpec): Promise<string> {
    return this.http.resolve(this.httpTarget(spec));
  }

  async create(name: string, key: readonly string[], input: unknown, params: unknown): Promise<void> {
    await this.http.resolve({ name, key, mode: "create", input, params });
  }

  connect(spec: HandleSpec): object {
    const { subscription, release } = this.acquire(spec);
    return makeConnection(subscription, release);
  }

  /** The subscription for this actor and params (shared, ref-counted), and how to let it go. */
  acquire(spec: HandleSpec): { subscription: ActorSubscription; release(): void } {
    const target: SubscribeTarget =
      spec.id !== undefined ? { by: "id", id: spec.id } : { by: "key", mode: spec.mode, key: spec.key ?? [], input: spec.input };
    // One replica per actor (whatever the params); one subscription per actor and params.
    const rid = JSON.stringify([spec.name, spec.id !== undefined ? `#${spec.id}` : (spec.key ?? [])]);
    const identity = JSON.stringify([rid, spec.params ?? null]);
    let subscription = this.subscriptions.get(identity);
    if (subscription === undefined) {
      const store = new ReplicaStore(this.storageView, rid, (fault) => {
        for (const [key, each] of this.subscriptions) if (JSON.parse(key)[0] === rid) each.storageFault(fault);
      });
      const predictors = ((this.options.optimistic as Record<string, Record<string, Predictor>> | undefined) ?? {})[spec.name] ?? {};
      subscription = new ActorSubscription(
        {
          upstream: () => this.upstream(),
          tabId: this.tabId,
          newCallId: () => this.newCallId(),
          store,
          ready: this.ready,
          seqs: this.identity,
          predictors,
        },
        { name: spec.name, target, params: spec.params, stateVersion: (this.options.stateVersions as Record<string, number | undefined> | undefined)?.[spec.name] },
      );
      this.stores.set(rid, store);
      this.subscriptions.set(identity, subscription);
      this.subscriptionsChanged();
      const created = subscription;
      void this.ready.then(() => {
        if (this.storageNote !== null) created.storageFault(this.storageNote);
      });
    }
    subscription.refs++;
    const shared = subscription;
    let released = false;
    return {
      subscription: shared,
      release: () => {
        if (released) return;
        released = true;
        if (--shared.refs > 0) return;
        shared.dispose();
        if (this.subscriptions.get(identity) === shared) this.subscriptions.delete(identity);
        this.subscriptionsChanged();
      },
    };
  }

  // ---------------------------------------------------------------------------------------
  // Inspection (client/inspection.ts): read-only, nothing computed until someone subscribes

  inspect(): Inspector {
    this.inspector ??= new Inspector(this);
    return this.inspector;
  }

  get storageKind(): string {
    return this.storage.kind;
  }

  tab(): TabSnapshot {
    if (this.tabs === null) return { role: "alone", tabId: this.tabId, leaderTab: null, epoch: 0 };
    return { role: this.tabs.role, tabId: this.tabId, leaderTab: this.tabs.leaderTab, epoch: this.tabs.epoch };
  }

  liveSubscriptions(): ReadonlyMap<string, ActorSubscription> {
    return this.subscriptions;
  }

  watchSubscriptions(listener: () => void): () => void {
    const wrapped = () => listener();
    this.subscriptionWatchers.add(wrapped);
    return () => this.subscriptionWatchers.delete(wrapped);
  }

  private subscriptionsChanged(): void {
    for (const watcher of this.subscriptionWatchers) watcher();
  }

  /** Forgets every local replica and outbox of this storage, and the client id. */
  async resetLocalData(): Promise<void> {
    await this.ready;
    for (const subscription of this.subscriptions.values()) await subscription.resetLocalData();
    if (this.upstream().role === "leader") await this.storage.clear("r:"); // a follower's leader does it
  }

  dispose(): void {
    (globalThis as { removeEventListener?: (type: string, listener: (event: { persisted?: boolean }) => void) => void }).removeEventListener?.("pagehide", this.onPageHide);
    this.hub?.dispose();
    this.hub = null;
    for (const subscription of this.subscriptions.values()) subscription.dispose();
    this.subscriptions.clear();
    this.tabs?.dispose();
    this.session?.dispose();
    this.session = null;
  }
}

export function createClient<R>(url: string, options: ClientOptions<R> = {}): Client<R> {
  const core = new ClientCore(url, options as ClientOptions<unknown>);
  return makeClientFacade<Client<R>, HandleSpec>(networkTransport(core), {
    dispose: () => () => core.dispose(),
    clientId: () => core.clientId,
    ready: () => core.ready,
    resetLocalData: () => () => core.resetLocalData(),
    inspect: () => () => core.inspect(),
  });
}

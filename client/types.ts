/**
 * The network client's typed façade: accessors, handles and live connections derived from
 * `typeof registry` (no codegen). The untyped core is client-core.ts.
 * @public
 */
import type { Awareness } from "y-protocols/awareness";
import type * as Y from "yjs";
import type {
  ActionMethods,
  ActionsOf,
  ActorsOf,
  CreateOptions,
  EventMethods,
  EventsOf,
  GetOrCreateOptions,
  HandleOptions,
  InputOf,
  ParamsOf,
  StateOf,
} from "../shared/client-types.ts";
import type { ActorKey } from "../shared/key.ts";
import type { TandemError } from "../shared/errors.ts";
import type { ConnectionStatus, DiscardedEdits, OutboxEntry } from "./actor-subscription.ts";
import type { ClientInspector } from "./inspection.ts";
import type { SyncProgress } from "./sync-progress.ts";

export type { ConnectionStatus, DiscardedEdits, OutboxEntry, SyncProgress };

/** An optimistic handler: the action's effect predicted on a draft of the state. */
export type Prediction<D, F> = F extends (c: never, ...args: infer Args) => unknown ? (state: StateOf<D>, ...args: Args) => void : never;

/** `createClient(url, { stateVersions: { actorName: 2 } })` (or `stateVersionsOf(registry)`): the state version this app expects per actor kind. */
export type ClientStateVersions<R> = { readonly [K in keyof ActorsOf<R>]?: number };

/** `createClient(url, { optimistic: { actorName: { action: (state, ...args) => {...} } } })`, typed by the registry. */
export type OptimisticHandlers<R> = {
  readonly [K in keyof ActorsOf<R>]?: { readonly [A in keyof ActionsOf<ActorsOf<R>[K]>]?: Prediction<ActorsOf<R>[K], ActionsOf<ActorsOf<R>[K]>[A]> };
};

/** A live connection: the replica (`doc`, `state`), events, actions over the socket. */
export type ActorConnection<D> = ActionMethods<D> &
  EventMethods<EventsOf<D>> & {
    /** The replica's Y.Doc: bind editors to it. Replaced after a rejected direct edit (see onDoc). */
    readonly doc: Y.Doc;
    /**
     * A typed read view: confirmed state plus the predictions of pending actions, in order.
     * Undefined until the replica has any state (loaded from storage or synced).
     */
    readonly state: StateOf<D> | undefined;
    readonly status: ConnectionStatus;
    /** Actions and direct edits sent or queued and not yet confirmed. */
    readonly pending: number;
    /** The actions not yet confirmed, oldest first, with their status. */
    readonly outbox: readonly OutboxEntry[];
    /** Presence (y-protocols awareness); the server stamps `user` from auth. */
    readonly awareness: Awareness;
    /** The actor's id once subscribed (null before). */
    readonly actorId: string | null;
    /** Whether this connection may edit `doc` directly (null until subscribed). */
    readonly canEdit: boolean | null;
    /** Resolves when status is "synced" (rejects if the actor refuses the connection). */
    whenSynced(): Promise<void>;
    onStatus(listener: (status: ConnectionStatus) => void): () => void;
    onError(listener: (error: TandemError) => void): () => void;
    /** The state or the pending count changed. */
    onChange(listener: () => void): () => void;
    /** `doc` was replaced because local edits were discarded (rejected or read-only). */
    onDoc(listener: (event: { doc: Y.Doc; discarded: DiscardedEdits }) => void): () => void;
    /** The outbox changed (an action queued, sent, confirmed or rejected). */
    onOutbox(listener: (entries: readonly OutboxEntry[]) => void): () => void;
    /** An action was confirmed or rejected — also those restored after a reload, whose promises are gone. */
    onSettled(listener: (entry: OutboxEntry) => void): () => void;
    /**
     * What a long load, first sync or outbox flush has done of how much (client/sync-progress.ts
     * says what each phase measures); null when none is under way.
     */
    readonly progress: SyncProgress | null;
    onProgress(listener: (progress: SyncProgress | null) => void): () => void;
    /**
     * New params (a token refresh) without reconnecting: the server runs onAuth again and
     * `c.conn.auth` changes in place. Rejects (and the connection fails) if onAuth refuses.
     */
    setParams(params: ParamsOf<D>): Promise<void>;
    /** Resolves once what storage holds is loaded (state readable offline from then on). */
    whenLoaded(): Promise<void>;
    /** Forgets this replica's local data (document, edits, outbox) and syncs it again. */
    resetLocalData(): Promise<void>;
    /** Pending actions are kept in the outbox and sent by the next connection or reload. */
    dispose(): void;
  };

export type ActorHandle<D> = ActionMethods<D> & {
  /** The actor's id (creates it for getOrCreate handles). */
  resolve(): Promise<string>;
  /** A live connection (shared with other connect() calls to the same actor and params). */
  connect(): ActorConnection<D>;
};

export interface ActorAccessor<D> {
  get(key?: ActorKey, options?: HandleOptions<ParamsOf<D>>): ActorHandle<D>;
  getOrCreate(key?: ActorKey, options?: GetOrCreateOptions<ParamsOf<D>, InputOf<D>>): ActorHandle<D>;
  create(
    key: ActorKey,
    ...options: [undefined] extends [InputOf<D>] ? [options?: CreateOptions<ParamsOf<D>, InputOf<D>>] : [options: CreateOptions<ParamsOf<D>, InputOf<D>>]
  ): Promise<ActorHandle<D>>;
  getForId(id: string, options?: HandleOptions<ParamsOf<D>>): ActorHandle<D>;
}

export type Client<R> = { readonly [K in keyof ActorsOf<R>]: ActorAccessor<ActorsOf<R>[K]> } & {
  /** Closes the socket and every connection. */
  dispose(): void;
  /** This client's id (identifies its actions for exactly-once delivery); read it after `ready`. */
  readonly clientId: string;
  /** Resolves once the client's id and counters are loaded from storage. */
  readonly ready: Promise<void>;
  /** Forgets every replica and outbox in this client's storage. */
  resetLocalData(): Promise<void>;
  /**
   * A read-only look inside (devtools, client/inspection.ts): snapshots of the tab's role and
   * of every live connection, and a change subscription. Costs nothing until subscribed.
   */
  inspect(): ClientInspector;
};

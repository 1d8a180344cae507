/**
 * The context `c` that actions and hooks receive. Only types live here (isomorphic); the
 * server builds the objects (server/actor/context.ts).
 * @public
 */
import type { EventMap } from "./event-map.ts";

/** What a request wants from an actor; `onAuth` sees all of them before anything loads. */
export type Intent = "get" | "create" | "connect" | "action" | "message";

/** The HTTP request (or WebSocket upgrade) that carried a call, as `onAuth` sees it. */
export interface AuthRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly ip?: string;
}

export interface AuthOptions<P> {
  /** Undefined for calls that did not come over the network. */
  readonly request: AuthRequest | undefined;
  readonly params: P;
  readonly intents: ReadonlySet<Intent>;
  /** The actor kind and key asked for (the actor itself is not loaded yet). */
  readonly actor: { readonly name: string; readonly key: readonly string[] };
}

export interface ConnectOptions<A, P> {
  readonly params: P;
  readonly auth: A;
  readonly request: AuthRequest | undefined;
}

/** A caller of the actor: a live connection, or a one-off call (inline, HTTP, schedule). */
export interface Conn<A, P, E extends EventMap> {
  readonly id: string;
  /** What `onAuth` returned (undefined for trusted server calls that passed none). */
  readonly auth: A;
  readonly params: P;
  /** True for a live connection (`connect()`), false for a one-off call. */
  readonly live: boolean;
  /** Sends an event to this connection only. */
  send<K extends keyof E & string>(name: K, payload: E[K]): void;
  /** Closes this connection. */
  disconnect(reason?: string): void;
}

export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/** Durable timers: the action runs later, even after a restart. */
export interface Schedule {
  /** Runs `action(...args)` after `ms` milliseconds; returns the schedule's id. */
  after(ms: number, action: string, ...args: unknown[]): string;
  /** Runs `action(...args)` at `timestamp` (ms since the epoch); returns the schedule's id. */
  at(timestamp: number, action: string, ...args: unknown[]): string;
  /** Cancels a schedule that has not fired yet. */
  cancel(id: string): void;
}

/** A client for the actors of a registry, handed out by `c.client<typeof registry>()`. */
export interface ClientFactory {
  client<R>(): import("./client-types.ts").InlineClient<R>;
}

/** The context of `createState`/`createPrivateState`: there is no state yet. */
export interface CreateContext<V> {
  readonly name: string;
  readonly key: readonly string[];
  readonly actorId: string;
  readonly vars: V;
  readonly log: Logger;
}

/** The context of every hook and action of a loaded actor. */
export interface ActorContext<S, PS, V, A, P, E extends EventMap> extends ClientFactory {
  /** The replicated state: a live plain-JS view; writes are atomic per action. */
  state: S;
  /** Persisted, never sent to clients; rolled back when an action throws. */
  privateState: PS;
  /** Ephemeral per instance. */
  vars: V;
  readonly name: string;
  readonly key: readonly string[];
  readonly actorId: string;
  /** Live connections by id. */
  readonly conns: ReadonlyMap<string, Conn<A, P, E>>;
  /** Sends an event to every live connection (after the current action commits). */
  broadcast<K extends keyof E & string>(name: K, payload: E[K]): void;
  readonly schedule: Schedule;
  readonly log: Logger;
  /** Asks the runtime to unload this actor once the current work is done. */
  sleep(): void;
}

/**
 * The context of `migrate`: the actor as stored by an older version. Its state (and
 * privateState) still have the old shape, so they are typed loosely: read the old fields,
 * write the new ones; the writes commit atomically with the new version.
 */
export interface MigrateContext<S, PS, V, A, P, E extends EventMap> extends Omit<ActorContext<S, PS, V, A, P, E>, "state" | "privateState"> {
  state: S extends object ? Partial<S> & Record<string, unknown> : Record<string, unknown>;
  privateState: PS extends object ? Partial<PS> & Record<string, unknown> : PS | Record<string, unknown>;
}

/** The context of an action: who called it is `c.conn`. */
export interface ActionContext<S, PS, V, A, P, E extends EventMap> extends ActorContext<S, PS, V, A, P, E> {
  readonly conn: Conn<A, P, E>;
}

/** The context of `canEdit`/`onEdit` for a direct edit from a connection. */
export interface EditContext<S, PS, V, A, P, E extends EventMap> extends ActionContext<S, PS, V, A, P, E> {
  /** The Yjs update being proposed. */
  readonly update: Uint8Array;
}

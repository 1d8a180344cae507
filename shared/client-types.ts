/**
 * The typed face of every client (inline, network): mapped types from `typeof registry` to
 * accessors, handles and connections, dropping the server-only context argument of actions.
 * Types only; each client implements them over an untyped core.
 * @public
 */
import type { EventMap } from "./event-map.ts";
import type { ActorKey } from "./key.ts";

/** The types `actor()` inferred for a definition. */
export type TypesOf<D> = D extends { readonly types?: infer T } ? NonNullable<T> : never;
export type StateOf<D> = TypesOf<D> extends { state: infer S } ? S : never;
export type AuthOf<D> = TypesOf<D> extends { auth: infer A } ? A : never;
export type ParamsOf<D> = TypesOf<D> extends { params: infer P } ? P : never;
export type InputOf<D> = TypesOf<D> extends { input: infer I } ? I : never;
export type EventsOf<D> = TypesOf<D> extends { events: infer E extends EventMap } ? E : EventMap;
export type ActionsOf<D> = TypesOf<D> extends { actions: infer Act } ? Act : never;
// Read off the registry's shape (setup.ts's `Registry`) rather than importing it: setup.ts
// imports actor.ts, which imports context.ts, which names this file's `InlineClient`.
export type ActorsOf<R> = R extends { readonly kind: "tandem.registry"; readonly actors: infer Actors extends Record<string, unknown> } ? Actors : never;

/** One action as a caller sees it: no context argument, always a promise. */
export type ActionMethod<F> = F extends (c: never, ...args: infer Args) => infer R ? (...args: Args) => Promise<Awaited<R>> : never;

export type ActionMethods<D> = { readonly [K in keyof ActionsOf<D> & string]: ActionMethod<ActionsOf<D>[K]> };

export interface HandleOptions<P> {
  /** Sent to `onAuth` (in a header over the network). */
  params?: P;
}

export interface GetOrCreateOptions<P, I> extends HandleOptions<P> {
  /** The input for `createState` if the actor has to be created. */
  createWithInput?: I;
}

export type CreateOptions<P, I> = HandleOptions<P> & ([undefined] extends [I] ? { input?: I } : { input: I });

export type EventListener<T> = (payload: T) => void;

/** Event subscription methods shared by every kind of connection. */
export interface EventMethods<E extends EventMap> {
  on<K extends keyof E & string>(name: K, listener: EventListener<E[K]>): () => void;
  once<K extends keyof E & string>(name: K, listener: EventListener<E[K]>): () => void;
  off<K extends keyof E & string>(name: K, listener: EventListener<E[K]>): void;
}

/** Options of the inline client: trusted server code may act on behalf of a user. */
export interface InlineHandleOptions<A, P> extends HandleOptions<P> {
  /** Becomes `c.conn.auth` (onAuth does not run for trusted calls). */
  auth?: A;
}

export type InlineConnection<D> = ActionMethods<D> &
  EventMethods<EventsOf<D>> & {
    readonly id: string;
    /** Resolves once connected (onConnect ran); rejects if the actor refused the connection. */
    whenSynced(): Promise<void>;
    /** Closes the connection (runs onDisconnect). */
    dispose(): Promise<void>;
  };

export type InlineHandle<D> = ActionMethods<D> & {
  /** The actor's id, for `getForId`. Creates the actor for `getOrCreate` handles. */
  resolve(): Promise<string>;
  /** A live connection: events, actions as this connection, onConnect/onDisconnect. */
  connect(): InlineConnection<D>;
};

export interface InlineAccessor<D> {
  get(key?: ActorKey, options?: InlineHandleOptions<AuthOf<D>, ParamsOf<D>>): InlineHandle<D>;
  getOrCreate(key?: ActorKey, options?: InlineHandleOptions<AuthOf<D>, ParamsOf<D>> & GetOrCreateOptions<ParamsOf<D>, InputOf<D>>): InlineHandle<D>;
  create(
    key: ActorKey,
    ...options: [undefined] extends [InputOf<D>]
      ? [options?: InlineHandleOptions<AuthOf<D>, ParamsOf<D>> & CreateOptions<ParamsOf<D>, InputOf<D>>]
      : [options: InlineHandleOptions<AuthOf<D>, ParamsOf<D>> & CreateOptions<ParamsOf<D>, InputOf<D>>]
  ): Promise<InlineHandle<D>>;
  getForId(id: string, options?: InlineHandleOptions<AuthOf<D>, ParamsOf<D>>): InlineHandle<D>;
}

/** `server.client` and `c.client<typeof registry>()`: the typed API with no network. */
export type InlineClient<R> = { readonly [K in keyof ActorsOf<R>]: InlineAccessor<ActorsOf<R>[K]> };

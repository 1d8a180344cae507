/**
 * The typed client façade, shared by the network client (client/create-client.ts) and the
 * inline client (server/inline-client.ts): the Proxies that turn `client.board` into an
 * accessor, `accessor.getOrCreate(key)` into a handle, `handle.someAction(...)` into a call
 * and `conn.someAction(...)` into a call on a connection. Each client supplies only its
 * transport (`ClientTransport`: how a handle addresses an actor, and what a call, a resolve,
 * a create and a connect do); the types come from shared/client-types.ts. Isomorphic.
 */
import { InvalidArguments } from "./errors.ts";

/** How a handle finds its actor, as the accessor method that made it says. */
export type HandleLookup =
  | { readonly kind: "get"; readonly key: unknown }
  | { readonly kind: "getOrCreate"; readonly key: unknown }
  | { readonly kind: "getForId"; readonly id: unknown };

/** The options a handle may be given (each client reads the ones it knows). */
export interface RawHandleOptions {
  readonly auth?: unknown;
  readonly params?: unknown;
  readonly input?: unknown;
  readonly createWithInput?: unknown;
}

/** Handle options as given: undefined, or an object (anything else is refused). */
export function handleOptions(options: unknown): RawHandleOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw new InvalidArguments("Handle options must be an object");
  return options as RawHandleOptions;
}

/** What a client does under the façade. `Target` is its own description of a handle's actor. */
export interface ClientTransport<Target> {
  /** The target of a handle made by `name`'s accessor; may throw at once (a bad key or id). */
  target(name: string, lookup: HandleLookup, options: unknown): Target;
  /** `accessor.create(key, options)`: creates the actor, then gives the target of its handle. */
  create(name: string, key: unknown, options: unknown): Promise<Target>;
  /** `handle.resolve()`: the actor's id. */
  resolve(target: Target): Promise<string>;
  /** `handle.someAction(...args)`: a call with no connection kept. */
  call(target: Target, action: string, args: unknown[]): Promise<unknown>;
  /** `handle.connect()`: the client's connection object. */
  connect(target: Target): object;
}

/** Names that are never actor kinds or actions: `then` (so that awaiting a façade does not call it) and symbols. */
function isMember(prop: string | symbol): prop is string {
  return typeof prop === "string" && prop !== "then";
}

/**
 * The client object: `own` are the client's own members (read on every access: `clientId`,
 * `ready`…), any other name is an actor kind's accessor (made once per name).
 */
export function makeClientFacade<Client, Target>(transport: ClientTransport<Target>, own: Readonly<Record<string, () => unknown>> = {}): Client {
  const accessors = new Map<string, object>();
  return new Proxy({} as Client & object, {
    get(_target, prop) {
      if (!isMember(prop)) return undefined;
      if (Object.hasOwn(own, prop)) return own[prop]!();
      let accessor = accessors.get(prop);
      if (accessor === undefined) accessors.set(prop, (accessor = makeAccessor(transport, prop)));
      return accessor;
    },
  }) as Client;
}

/** `client.board`: the accessor of one actor kind. */
export function makeAccessor<Target>(transport: ClientTransport<Target>, name: string): object {
  return {
    get: (key?: unknown, options?: unknown) => makeHandle(transport, transport.target(name, { kind: "get", key }, options)),
    getOrCreate: (key?: unknown, options?: unknown) => makeHandle(transport, transport.target(name, { kind: "getOrCreate", key }, options)),
    create: async (key?: unknown, options?: unknown) => makeHandle(transport, await transport.create(name, key, options)),
    getForId: (id: unknown, options?: unknown) => makeHandle(transport, transport.target(name, { kind: "getForId", id }, options)),
  };
}

/** Which transport made a handle, and its target (what the React bindings key connections by). */
export interface HandleSource {
  readonly transport: object;
  readonly target: unknown;
}

const handleSources = new WeakMap<object, HandleSource>();

/** The transport and target of a handle made here; undefined for anything else. */
export function handleSource(handle: object): HandleSource | undefined {
  return handleSources.get(handle);
}

/** A handle: `resolve()`, `connect()`, and every other name an action called statelessly. */
export function makeHandle<Target>(transport: ClientTransport<Target>, target: Target): object {
  const own: Record<string, unknown> = {
    resolve: () => transport.resolve(target),
    connect: () => transport.connect(target),
  };
  const handle = new Proxy(own, {
    get(members, prop) {
      if (!isMember(prop)) return undefined;
      if (Object.hasOwn(members, prop)) return members[prop];
      return (...args: unknown[]) => transport.call(target, prop, args);
    },
  });
  handleSources.set(handle, { transport, target });
  return handle;
}

/** The function of one action on a connection. */
export type ActionFunction = (...args: unknown[]) => Promise<unknown>;

/**
 * A connection object: `own` members, `getters` read on every access (`conn.state`…), and
 * every other name an action of the connection: `actionOf(name)`, made on first use and
 * kept, so `conn.inc(1)` in a loop allocates none.
 */
export function makeConnectionFacade(
  own: Readonly<Record<string, unknown>>,
  actionOf: (name: string) => ActionFunction,
  getters: Readonly<Record<string, () => unknown>> = {},
): object {
  const actions = new Map<string, ActionFunction>();
  return new Proxy(own, {
    get(members, prop) {
      if (!isMember(prop)) return undefined;
      if (Object.hasOwn(getters, prop)) return getters[prop]!();
      if (Object.hasOwn(members, prop)) return members[prop];
      let action = actions.get(prop);
      if (action === undefined) actions.set(prop, (action = actionOf(prop)));
      return action;
    },
  });
}

/** `once(name, listener)` over an `on` that returns its remover. */
export function onceVia<L extends (payload: unknown) => void>(on: (name: string, listener: L) => () => void): (name: string, listener: L) => () => void {
  return (name, listener) => {
    const remove = on(name, ((payload: unknown) => {
      remove();
      listener(payload);
    }) as L);
    return remove;
  };
}

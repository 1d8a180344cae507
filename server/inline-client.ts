/**
 * The inline client (`server.client`, `c.client()`): the typed client API with no network.
 * A typed façade (Proxies keyed by actor and action names) over the runtime. Calls are
 * trusted server code: `onAuth` does not run and `c.conn.auth` is what the caller passes.
 * Arguments and results are copied, as they would be over the wire, so caller and actor
 * never share mutable objects.
 */
import type { InlineClient } from "../shared/client-types.ts";
import { ActorStopped, InvalidArguments } from "../shared/errors.ts";
import type { ActorRuntime, LoadMode } from "./runtime/actor-runtime.ts";
import type { ActorInstance } from "./runtime/actor-instance.ts";
import { ConnImpl, newConnId, systemConn } from "./runtime/connection.ts";

interface Target {
  readonly name: string;
  readonly key?: unknown;
  readonly id?: unknown;
  readonly mode: LoadMode;
  readonly auth?: unknown;
  readonly params?: unknown;
}

interface HandleOptions {
  auth?: unknown;
  params?: unknown;
  input?: unknown;
  createWithInput?: unknown;
}

function copy<T>(value: T, what: string): T {
  try {
    return structuredClone(value);
  } catch {
    throw new InvalidArguments(`${what} must be plain data (JSON values, arrays, objects, Uint8Array)`);
  }
}

function options(value: unknown): HandleOptions {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) throw new InvalidArguments("Handle options must be an object");
  return value as HandleOptions;
}

export function createInlineClient<R>(runtime: ActorRuntime): InlineClient<R> {
  const accessors = new Map<string, object>();
  return new Proxy({} as InlineClient<R>, {
    get(_target, name) {
      if (typeof name !== "string" || name === "then") return undefined;
      let accessor = accessors.get(name);
      if (accessor === undefined) {
        accessor = makeAccessor(runtime, name);
        accessors.set(name, accessor);
      }
      return accessor;
    },
  });
}

function makeAccessor(runtime: ActorRuntime, name: string): object {
  const target = (key: unknown, mode: LoadMode, raw: unknown, id?: unknown): Target => {
    const { auth, params } = options(raw);
    return { name, key, id, mode, auth, params };
  };
  return {
    get: (key?: unknown, opts?: unknown) => makeHandle(runtime, target(key, { kind: "get" }, opts)),
    getOrCreate: (key?: unknown, opts?: unknown) =>
      makeHandle(runtime, target(key, { kind: "getOrCreate", input: options(opts).createWithInput }, opts)),
    create: async (key?: unknown, opts?: unknown) => {
      const input = copy(options(opts).input, "Create input");
      await instanceOf(runtime, target(key, { kind: "create", input }, opts));
      return makeHandle(runtime, target(key, { kind: "get" }, opts));
    },
    getForId: (id: unknown, opts?: unknown) => makeHandle(runtime, target(undefined, { kind: "get" }, opts, id)),
  };
}

async function instanceOf(runtime: ActorRuntime, target: Target): Promise<ActorInstance> {
  try {
    if (target.id !== undefined) return await runtime.resolveById(target.name, target.id);
    return await runtime.resolve(target.name, target.key, target.mode);
  } catch (error) {
    throw runtime.callerError(error, { actor: target.name });
  }
}

async function callAction(runtime: ActorRuntime, target: Target, instance: ActorInstance, conn: ConnImpl, action: string, args: unknown[]): Promise<unknown> {
  try {
    // The actor already copied its result (plain data, checked before it committed).
    return await instance.action(action, copy(args, "Action arguments"), conn);
  } catch (error) {
    throw runtime.callerError(error, { actor: target.name, action });
  }
}

function makeHandle(runtime: ActorRuntime, target: Target): object {
  const methods: Record<string, unknown> = {
    resolve: async () => (await instanceOf(runtime, target)).id,
    connect: () => makeConnection(runtime, target),
  };
  return new Proxy(methods, {
    get(own, prop) {
      if (typeof prop !== "string" || prop === "then") return undefined;
      if (Object.hasOwn(own, prop)) return own[prop];
      return async (...args: unknown[]) => {
        const instance = await instanceOf(runtime, target);
        return callAction(runtime, target, instance, systemConn("inline", target.auth, target.params), prop, args);
      };
    },
  });
}

type Listener = (payload: unknown) => void;

/** A live in-process connection: events, actions as this connection, onConnect/onDisconnect. */
function makeConnection(runtime: ActorRuntime, target: Target): object {
  const listeners = new Map<string, Set<Listener>>();
  let closed: string | null = null;
  const conn = new ConnImpl(newConnId("inline"), target.auth, target.params, {
    event(name, payload) {
      const set = listeners.get(name);
      if (!set || set.size === 0) return;
      queueMicrotask(() => {
        for (const listener of [...set]) {
          try {
            listener(structuredClone(payload));
          } catch (error) {
            runtime.log.error({ err: error, event: name }, "event listener threw");
          }
        }
      });
    },
    close(reason) {
      closed = reason;
    },
  });
  const ready = (async () => {
    const instance = await instanceOf(runtime, target);
    try {
      await instance.connect(conn);
    } catch (error) {
      throw runtime.callerError(error, { actor: target.name, hook: "connect" });
    }
    return instance;
  })();
  ready.catch(() => undefined); // surfaced by whatever awaits the connection next

  const on = (name: string, listener: Listener) => {
    let set = listeners.get(name);
    if (!set) listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => off(name, listener);
  };
  const off = (name: string, listener: Listener) => {
    listeners.get(name)?.delete(listener);
  };
  const methods: Record<string, unknown> = {
    id: conn.id,
    on,
    off,
    once: (name: string, listener: Listener) => {
      const dispose = on(name, (payload) => {
        dispose();
        listener(payload);
      });
      return dispose;
    },
    /** Resolves once connected (onConnect ran); rejects if the actor refused the connection. */
    whenSynced: async () => {
      await ready;
    },
    dispose: async () => {
      listeners.clear();
      const instance = await ready.catch(() => null);
      if (instance !== null && closed === null) await instance.disconnect(conn, "disposed");
      closed ??= "disposed";
    },
  };
  return new Proxy(methods, {
    get(own, prop) {
      if (typeof prop !== "string" || prop === "then") return undefined;
      if (Object.hasOwn(own, prop)) return own[prop];
      return async (...args: unknown[]) => {
        const instance = await ready;
        if (closed !== null) throw new ActorStopped(`The connection is closed (${closed})`);
        return callAction(runtime, target, instance, conn, prop, args);
      };
    },
  });
}

/**
 * The inline client (`server.client`, `c.client()`): the typed client API with no network —
 * the shared client façade (shared/client-facade.ts) over a transport that calls the runtime.
 * Calls are trusted server code: `onAuth` does not run and `c.conn.auth` is what the caller
 * passes. Arguments and results are copied, as they would be over the wire, so caller and
 * actor never share mutable objects.
 *
 * `chain`: the actors whose code holds this client (`c.client()` in an action of B called by
 * A: [A, B]); it goes with every resolve, call and connect, so that a call that would wait
 * for itself is refused (server/runtime/call-chain.ts). `server.client` has none.
 */
import { type ClientTransport, type HandleLookup, handleOptions, makeClientFacade, makeConnectionFacade, onceVia } from "../shared/client-facade.ts";
import type { InlineClient } from "../shared/client-types.ts";
import { ActorStopped, InvalidArguments } from "../shared/errors.ts";
import type { ActorRuntime, LoadMode } from "./runtime/actor-runtime.ts";
import type { ActorInstance } from "./runtime/actor-instance.ts";
import { type CallChain, NO_CHAIN } from "./runtime/call-chain.ts";
import { ConnImpl, newConnId, systemConn } from "./runtime/connection.ts";
import type { PeerCall } from "./cluster/peer-call.ts";
import { HeldElsewhere, type NodeAddress } from "./drivers/driver.ts";

interface Target {
  readonly name: string;
  readonly key?: unknown;
  readonly id?: unknown;
  readonly mode: LoadMode;
  readonly auth?: unknown;
  readonly params?: unknown;
}

function copy<T>(value: T, what: string): T {
  try {
    return structuredClone(value);
  } catch {
    throw new InvalidArguments(`${what} must be plain data (JSON values, arrays, objects, Uint8Array)`);
  }
}

/**
 * In a cluster: where an actor held by another node is, and how to run an inline call there
 * (server/cluster/peer-call.ts). Absent on a single node.
 */
export interface InlineRemote {
  owner(id: string): Promise<NodeAddress | null>;
  call(owner: NodeAddress, call: PeerCall): Promise<unknown>;
}

export function createInlineClient<R>(runtime: ActorRuntime, chain: CallChain = NO_CHAIN, remote: InlineRemote | null = null): InlineClient<R> {
  return makeClientFacade<InlineClient<R>, Target>(new InlineTransport(runtime, chain, remote));
}

class InlineTransport implements ClientTransport<Target> {
  constructor(
    private readonly runtime: ActorRuntime,
    private readonly chain: CallChain,
    private readonly remote: InlineRemote | null,
  ) {}

  target(name: string, lookup: HandleLookup, raw: unknown): Target {
    const { auth, params, createWithInput } = handleOptions(raw);
    switch (lookup.kind) {
      case "get":
        return { name, key: lookup.key, mode: { kind: "get" }, auth, params };
      case "getOrCreate":
        return { name, key: lookup.key, mode: { kind: "getOrCreate", input: createWithInput }, auth, params };
      case "getForId":
        return { name, id: lookup.id, mode: { kind: "get" }, auth, params };
    }
  }

  async create(name: string, key: unknown, raw: unknown): Promise<Target> {
    const { auth, params, input } = handleOptions(raw);
    const target: Target = { name, key, mode: { kind: "create", input: copy(input, "Create input") }, auth, params };
    const found = await this.placeOf(target);
    if ("owner" in found) await this.forward(found.owner, target, "resolve");
    return { name, key, mode: { kind: "get" }, auth, params };
  }

  async resolve(target: Target): Promise<string> {
    const found = await this.placeOf(target);
    if ("owner" in found) return (await this.forward(found.owner, target, "resolve")) as string;
    return found.instance.id;
  }

  async call(target: Target, action: string, args: unknown[]): Promise<unknown> {
    const found = await this.placeOf(target);
    if ("owner" in found) return this.forward(found.owner, target, "call", action, copy(args, "Action arguments"));
    return this.callAction(target, found.instance, systemConn("inline", target.auth, target.params), action, args);
  }

  /** The live instance here, or (in a cluster) the node that owns the actor. */
  private async placeOf(target: Target): Promise<{ instance: ActorInstance } | { owner: NodeAddress }> {
    try {
      if (target.id !== undefined) return { instance: await this.runtime.resolveById(target.name, target.id, this.chain) };
      return { instance: await this.runtime.resolve(target.name, target.key, target.mode, this.chain) };
    } catch (error) {
      if (error instanceof HeldElsewhere && this.remote !== null) {
        const owner = await this.remote.owner(error.actorId).catch(() => null);
        if (owner !== null) return { owner };
      }
      throw this.runtime.callerError(error, { actor: target.name });
    }
  }

  private async forward(owner: NodeAddress, target: Target, op: PeerCall["op"], action?: string, args?: unknown[]): Promise<unknown> {
    try {
      return await this.remote!.call(owner, { op, name: target.name, key: target.key, id: target.id, mode: target.mode, action, args, auth: target.auth, params: target.params, chain: this.chain });
    } catch (error) {
      throw this.runtime.callerError(error, { actor: target.name, action });
    }
  }

  connect(target: Target): object {
    return this.connection(target);
  }

  private async callAction(target: Target, instance: ActorInstance, conn: ConnImpl, action: string, args: unknown[]): Promise<unknown> {
    try {
      // The actor already copied its result (plain data, checked before it committed).
      return await instance.action(action, copy(args, "Action arguments"), conn, undefined, this.chain);
    } catch (error) {
      throw this.runtime.callerError(error, { actor: target.name, action });
    }
  }

  /** A live in-process connection: events, actions as this connection, onConnect/onDisconnect. */
  private connection(target: Target): object {
    const runtime = this.runtime;
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
      const found = await this.placeOf(target);
      if ("owner" in found) {
        throw new ActorStopped(`Actor "${target.name}" is live on another node (${found.owner.nodeId}): an inline connection reaches actors of its own node only; call its actions, or connect a client over the network`);
      }
      const instance = found.instance;
      try {
        await instance.connect(conn, undefined, this.chain);
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
    const own: Record<string, unknown> = {
      id: conn.id,
      on,
      off,
      once: onceVia(on),
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
    const actionOf =
      (name: string) =>
      async (...args: unknown[]): Promise<unknown> => {
        const instance = await ready;
        if (closed !== null) throw new ActorStopped(`The connection is closed (${closed})`);
        return this.callAction(target, instance, conn, name, args);
      };
    return makeConnectionFacade(own, actionOf);
  }
}

type Listener = (payload: unknown) => void;

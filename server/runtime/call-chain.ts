/**
 * Call chains: which actors an actor-to-actor call (`c.client()`) comes from, so that a call
 * that would wait for itself (A → A, A → B → A) is refused at once instead of deadlocking
 * in a mailbox.
 *
 * The chain travels explicitly: a task knows its chain, `c.client()` gives an inline client
 * over a view of the runtime that resolves with that chain, and the instances it hands out
 * start their tasks with it. (An AsyncLocalStorage would do the same implicitly, but it turns
 * on promise hooks for every promise of the process: a cost paid by every action.)
 */
import type { ActorInstance } from "./actor-instance.ts";
import type { ActorRuntime, LoadMode } from "./actor-runtime.ts";
import type { ConnImpl } from "./connection.ts";
import type { AuthRequest } from "../../shared/context.ts";

/** Actor ids, outermost first. */
export type CallChain = readonly string[];

export const NO_CHAIN: CallChain = Object.freeze([]);

/** The runtime as seen by code running with `chain`: every instance it resolves carries it. */
export function chainedRuntime(runtime: ActorRuntime, chain: CallChain): ActorRuntime {
  const overrides = {
    resolve: async (name: string, key: unknown, mode: LoadMode) => chainedInstance(await runtime.resolve(name, key, mode, chain), chain),
    resolveById: async (name: string, id: unknown) => chainedInstance(await runtime.resolveById(name, id, chain), chain),
  };
  return delegate(runtime, overrides);
}

/** An instance whose calls run with `chain` (their tasks' chain is `chain` + the instance). */
function chainedInstance(instance: ActorInstance, chain: CallChain): ActorInstance {
  const overrides = {
    action: (name: string, args: unknown[], conn: ConnImpl) => instance.action(name, args, conn, undefined, chain),
    actionDetailed: (name: string, args: unknown[], conn: ConnImpl) => instance.actionDetailed(name, args, conn, undefined, chain),
    connect: (conn: ConnImpl, request?: AuthRequest) => instance.connect(conn, request, chain),
  };
  return delegate(instance, overrides);
}

/** `target` with some methods replaced; every other method stays bound to `target`. */
function delegate<T extends object>(target: T, overrides: Record<string, unknown>): T {
  return new Proxy(target, {
    get(own, prop) {
      if (typeof prop === "string" && Object.hasOwn(overrides, prop)) return overrides[prop];
      const value: unknown = Reflect.get(own, prop, own);
      return typeof value === "function" ? value.bind(own) : value;
    },
  });
}

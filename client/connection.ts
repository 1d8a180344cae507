/**
 * The object `handle.connect()` returns: a thin façade over a shared subscription, with its
 * own listeners (removed on dispose) and the actor's actions as methods.
 */
import { ActorStopped } from "../shared/errors.ts";
import type { ActorSubscription } from "./actor-subscription.ts";
import type { SubscriptionEvents } from "./subscription-events.ts";

export function makeConnection(subscription: ActorSubscription, release: () => void): object {
  const owned: (() => void)[] = [];
  let disposed = false;
  const keep = (remove: () => void): (() => void) => {
    owned.push(remove);
    return remove;
  };
  const track = <K extends keyof SubscriptionEvents>(name: K) => (listener: (...args: SubscriptionEvents[K]) => void) => keep(subscription.emitter.on(name, listener));
  const on = (name: string, listener: (payload: unknown) => void) => keep(subscription.events.on(name, listener));
  const own: Record<string, unknown> = {
    on,
    off: (name: string, listener: (payload: unknown) => void) => subscription.events.off(name, listener),
    once: (name: string, listener: (payload: unknown) => void) => {
      const remove = on(name, (payload) => {
        remove();
        listener(payload);
      });
      return remove;
    },
    whenSynced: () => subscription.whenSynced(),
    onStatus: track("status"),
    onError: track("error"),
    onChange: track("change"),
    onDoc: track("doc"),
    onOutbox: track("outbox"),
    onSettled: track("settled"),
    whenLoaded: () => subscription.loaded,
    setParams: (params: unknown) => (disposed ? Promise.reject(new ActorStopped("The connection is disposed")) : subscription.setParams(params)),
    resetLocalData: () => subscription.resetLocalData(),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const remove of owned.splice(0)) remove();
      release();
    },
  };
  const getters: Record<string, () => unknown> = {
    doc: () => subscription.replica.doc,
    state: () => subscription.state,
    outbox: () => subscription.entries,
    status: () => subscription.status,
    pending: () => subscription.pending,
    awareness: () => subscription.awareness,
    actorId: () => subscription.actorId,
    canEdit: () => subscription.canEdit,
  };
  // One function per action name, made on first use (`conn.inc(1)` in a loop allocates none).
  const actions = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const actionOf = (name: string) => {
    let action = actions.get(name);
    if (action === undefined) {
      action = (...args: unknown[]) => {
        if (disposed) return Promise.reject(new ActorStopped("The connection is disposed"));
        return subscription.call(name, args);
      };
      actions.set(name, action);
    }
    return action;
  };
  return new Proxy(own, {
    get(target, prop) {
      if (typeof prop !== "string" || prop === "then") return undefined;
      const getter = getters[prop];
      if (getter) return getter();
      if (Object.hasOwn(target, prop)) return target[prop];
      return actionOf(prop);
    },
  });
}


/**
 * The object `handle.connect()` returns: a thin façade over a shared subscription, with its
 * own listeners (removed on dispose) and the actor's actions as methods.
 */
import { ActorStopped, type TandemError } from "../shared/errors.ts";
import type { ActorSubscription, ConnectionStatus, DiscardedEdits, OutboxEntry } from "./actor-subscription.ts";
import type * as Y from "yjs";

export function makeConnection(subscription: ActorSubscription, release: () => void): object {
  const owned: (() => void)[] = [];
  let disposed = false;
  const track = <T>(set: Set<(value: T) => void>, listener: (value: T) => void): (() => void) => {
    set.add(listener);
    const remove = () => set.delete(listener);
    owned.push(remove);
    return remove;
  };
  const eventSet = (name: string) => {
    let set = subscription.events.get(name);
    if (!set) subscription.events.set(name, (set = new Set()));
    return set;
  };
  const on = (name: string, listener: (payload: unknown) => void) => track(eventSet(name), listener);
  const own: Record<string, unknown> = {
    on,
    off: (name: string, listener: (payload: unknown) => void) => {
      subscription.events.get(name)?.delete(listener);
    },
    once: (name: string, listener: (payload: unknown) => void) => {
      const remove = on(name, (payload) => {
        remove();
        listener(payload);
      });
      return remove;
    },
    whenSynced: () => subscription.whenSynced(),
    onStatus: (listener: (status: ConnectionStatus) => void) => track(subscription.statusListeners, listener),
    onError: (listener: (error: TandemError) => void) => track(subscription.errorListeners, listener),
    onChange: (listener: () => void) => track(subscription.changeListeners, listener as (value: void) => void),
    onDoc: (listener: (event: { doc: Y.Doc; discarded: DiscardedEdits }) => void) => track(subscription.docListeners, listener),
    onOutbox: (listener: (entries: readonly OutboxEntry[]) => void) => track(subscription.outboxListeners, listener),
    onSettled: (listener: (entry: OutboxEntry) => void) => track(subscription.settledListeners, listener),
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
    outbox: () => subscription.outbox,
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


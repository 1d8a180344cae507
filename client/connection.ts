/**
 * The object `handle.connect()` returns: a thin façade over a shared subscription, with its
 * own listeners (removed on dispose) and the actor's actions as methods (the Proxy is the
 * shared one, shared/client-facade.ts).
 */
import { makeConnectionFacade, onceVia } from "../shared/client-facade.ts";
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
    once: onceVia(on),
    whenSynced: () => subscription.whenSynced(),
    onStatus: track("status"),
    onError: track("error"),
    onChange: track("change"),
    onDoc: track("doc"),
    onOutbox: track("outbox"),
    onSettled: track("settled"),
    onProgress: track("progress"),
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
    progress: () => subscription.progress.progress,
  };
  const actionOf =
    (name: string) =>
    (...args: unknown[]): Promise<unknown> =>
      disposed ? Promise.reject(new ActorStopped("The connection is disposed")) : subscription.call(name, args);
  return makeConnectionFacade(own, actionOf, getters);
}

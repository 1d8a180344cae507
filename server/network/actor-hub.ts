/** Per live actor: its update fan-out and its presence, created when the first channel subscribes. */
import type { ActorInstance } from "../runtime/actor-instance.ts";
import { Fanout } from "./fanout.ts";
import { Presence } from "./presence.ts";

export interface ActorHub {
  readonly fanout: Fanout;
  readonly presence: Presence;
}

const hubs = new WeakMap<ActorInstance, ActorHub>();

export function hubOf(instance: ActorInstance): ActorHub {
  let hub = hubs.get(instance);
  if (hub === undefined) {
    hub = { fanout: new Fanout(), presence: new Presence() };
    instance.updateListeners.add(hub.fanout.onUpdate);
    hubs.set(instance, hub);
  }
  return hub;
}

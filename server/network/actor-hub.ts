/** Per live actor: its update fan-out, its presence and its encoded state, created when the first channel subscribes. */
import type { ActorInstance } from "../runtime/actor-instance.ts";
import { Fanout } from "./fanout.ts";
import { FullState } from "./full-state.ts";
import { Presence } from "./presence.ts";

export interface ActorHub {
  readonly fanout: Fanout;
  readonly presence: Presence;
  readonly fullState: FullState;
}

const hubs = new WeakMap<ActorInstance, ActorHub>();

export function hubOf(instance: ActorInstance): ActorHub {
  let hub = hubs.get(instance);
  if (hub === undefined) {
    hub = { fanout: new Fanout(), presence: new Presence(), fullState: new FullState(instance.doc) };
    instance.updateListeners.add(hub.fanout.onUpdate);
    hubs.set(instance, hub);
  }
  return hub;
}

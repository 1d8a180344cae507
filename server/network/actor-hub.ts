/**
 * Per live actor: its update fan-out, its presence and its encoded state, made when the
 * first channel subscribes. The instance owns it (ActorInstance.hub): it lives and goes
 * with the actor, and its fan-out gets every durable update of it.
 */
import type * as Y from "yjs";
import type { ActorInstance } from "../runtime/actor-instance.ts";
import type { UpdateListener } from "../runtime/commit.ts";
import { Fanout } from "./fanout.ts";
import { FullState } from "./full-state.ts";
import { Presence } from "./presence.ts";

export interface ActorHub {
  readonly fanout: Fanout;
  readonly presence: Presence;
  readonly fullState: FullState;
  /** Every durable update of the actor (to its fan-out). */
  readonly onUpdate: UpdateListener;
}

function makeHub(doc: Y.Doc): ActorHub {
  const fanout = new Fanout();
  return { fanout, presence: new Presence(), fullState: new FullState(doc), onUpdate: fanout.onUpdate };
}

export function hubOf(instance: ActorInstance): ActorHub {
  return instance.hub(makeHub);
}

/**
 * What the scale-out bench serves on every node (`tandem serve bench/apps/cluster-app.ts
 * --redis …`): `counter`, whose `inc` adds to a number (each action one small commit) and
 * whose `tick` broadcasts an event as well.
 */
import { actor, setup } from "../../shared/index.ts";

const counter = actor({
  state: { n: 0 },
  actions: {
    inc: (c, by: number) => (c.state.n += by),
    tick: (c, i: number) => {
      c.state.n = i;
      c.broadcast("tick", i);
      return i;
    },
  },
});

export const registry = setup({ use: { counter } });

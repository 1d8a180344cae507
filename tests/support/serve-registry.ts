/**
 * The module `tandem serve` loads in tests/serve-crash.test.ts: one actor kind, `log`, whose
 * `add(n)` appends a number to an array — so a lost or doubled write is visible in its state.
 */
import { actor, setup } from "tandem";

export const log = actor({
  state: { items: [] as number[] },
  actions: {
    add: (c, n: number) => {
      if (typeof n !== "number") throw new TypeError("add takes a number");
      c.state.items.push(n);
      return n;
    },
    items: (c) => c.state.items,
  },
});

export const registry = setup({ use: { log } });

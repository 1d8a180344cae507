/**
 * The actor of the kill -9 test (file-crash.test.ts and its child process): a log of
 * numbers, one appended per action, so that a lost or doubled write is visible.
 */
import { actor, setup } from "../../shared/index.ts";

export const log = actor({
  state: { items: [] as number[] },
  actions: {
    add: (c, n: number) => {
      c.state.items.push(n);
      return n;
    },
    items: (c) => c.state.items,
  },
});

export const registry = setup({ use: { log } });

/** Keys the streams write to (stream s uses KEYS[s % KEYS.length]). */
export const KEYS = ["k", "j"] as const;
/** Numbers of stream s in a run with base b: b + s * STREAM_SPAN + i. */
export const STREAM_SPAN = 100_000;

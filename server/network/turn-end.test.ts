/**
 * Nothing at a turn's end may throw out of the event loop (README.md "Security model"): a task or a
 * cork release that throws goes to its owner's handler, and every other task and release of
 * the turn still runs, in order.
 */
import { afterEach, expect, test, vi } from "vitest";
import { recordUncaught } from "../../tests/support/uncaught.ts";
import { atTurnEnd, releaseAtTurnEnd } from "./turn-end.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const settle = async () => {
  for (let i = 0; i < 3; i++) await nextTurn();
};

const uncaught = recordUncaught();
afterEach(() => {
  vi.restoreAllMocks();
});

test("a throwing task goes to its handler; the other tasks and every cork release still run", async () => {
  const log: string[] = [];
  const failures: unknown[] = [];
  const boom = new RangeError("Maximum call stack size exceeded");
  atTurnEnd(() => log.push("first"), (error) => failures.push(["first", error]));
  atTurnEnd(() => {
    throw boom;
  }, (error) => failures.push(["throwing", error]));
  atTurnEnd(() => {
    log.push("third");
    atTurnEnd(() => log.push("deferred by third"), (error) => failures.push(["deferred", error]));
  }, (error) => failures.push(["third", error]));
  releaseAtTurnEnd({ release: () => log.push("cork a"), fail: (error) => failures.push(["cork a", error]) });
  releaseAtTurnEnd({
    release: () => {
      throw new Error("write failed");
    },
    fail: (error) => failures.push(["cork b", (error as Error).message]),
  });
  releaseAtTurnEnd({ release: () => log.push("cork c"), fail: (error) => failures.push(["cork c", error]) });
  await settle();
  expect(log).toEqual(["first", "third", "deferred by third", "cork a", "cork c"]);
  expect(failures).toEqual([
    ["throwing", boom],
    ["cork b", "write failed"],
  ]);
  expect(uncaught).toEqual([]);
  // The next turn works as usual.
  atTurnEnd(() => log.push("later"), () => {});
  await settle();
  expect(log.at(-1)).toBe("later");
});

test("a handler that throws too is reported on stderr, never out of the loop", async () => {
  const written: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  const ran: string[] = [];
  atTurnEnd(() => {
    throw new Error("task failed");
  }, () => {
    throw new Error("handler failed");
  });
  atTurnEnd(() => ran.push("after"), () => {});
  releaseAtTurnEnd({
    release: () => {
      throw new Error("release failed");
    },
    fail: () => {
      throw new Error("fail failed");
    },
  });
  releaseAtTurnEnd({ release: () => ran.push("cork"), fail: () => {} });
  await settle();
  vi.restoreAllMocks();
  expect(ran).toEqual(["after", "cork"]);
  expect(uncaught).toEqual([]);
  const text = written.join("");
  for (const message of ["task failed", "handler failed", "release failed", "fail failed"]) expect(text).toContain(message);
});

test("a task that keeps deferring itself does not hold the corks forever", async () => {
  let runs = 0;
  const released: number[] = [];
  const again = (): void => {
    runs++;
    if (runs < 5000) atTurnEnd(again, () => {});
  };
  atTurnEnd(again, () => {});
  releaseAtTurnEnd({ release: () => released.push(runs), fail: () => {} });
  for (let i = 0; i < 20 && runs < 5000; i++) await nextTurn();
  expect(runs).toBe(5000);
  expect(released).toHaveLength(1);
  expect(released[0]).toBeLessThan(5000); // released after a bounded number of rounds, not after all
  expect(uncaught).toEqual([]);
});

/**
 * Atomic actions, as a user feels them: an action that throws — at once or after an await,
 * after nested edits, array splices and text edits — leaves no trace in the document, in
 * storage, in any update sent to subscribers, or in events.
 */
import { afterEach, describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, event, setup, UserError } from "tandem";
import { createServer, memoryDriver, type Driver, type MemoryDriver } from "tandem/server";
import { random, seeds } from "./support/random.ts";

interface Item {
  id: number;
  tags: string[];
  meta: { n: number; deep: { list: number[] } };
}

const board = actor({
  state: { items: [] as Item[], notes: new Y.Text("notes"), counter: 0, settings: { theme: "light" } as Record<string, string> },
  privateState: { secret: 0 },
  events: { changed: event<{ n: number }>() },
  actions: {
    seed: (c, count: number) => {
      for (let i = 0; i < count; i++) c.state.items.push({ id: i, tags: [`t${i}`], meta: { n: i, deep: { list: [i, i + 1] } } });
    },
    /** Applies a list of edits, then throws if asked, maybe after an await. */
    edit: async (c, ops: number[], fail: "no" | "sync" | "async", scheduleMs = 60_000) => {
      for (const op of ops) {
        const items = c.state.items;
        switch (op % 8) {
          case 0:
            items.push({ id: 100 + op, tags: [], meta: { n: op, deep: { list: [] } } });
            break;
          case 1:
            if (items.length > 0) items.splice(op % items.length, 1);
            break;
          case 2:
            if (items.length > 0) items[op % items.length]!.meta.deep.list.push(op);
            break;
          case 3:
            c.state.notes.insert(op % (c.state.notes.length + 1), `<${op}>`);
            break;
          case 4:
            if (c.state.notes.length > 2) c.state.notes.delete(0, 2);
            break;
          case 5:
            c.state.counter += 1;
            c.privateState.secret += 1;
            break;
          case 6:
            c.state.settings[`k${op}`] = String(op);
            break;
          default:
            if (items.length > 1) items.unshift(items[items.length - 1]!);
        }
        if (op % 3 === 0) await Promise.resolve();
      }
      c.broadcast("changed", { n: ops.length });
      c.schedule.after(scheduleMs, "seed", 1);
      if (fail === "sync") throw new UserError("refused");
      if (fail === "async") {
        await new Promise((resolve) => setTimeout(resolve, 1));
        throw new Error("exploded after an await");
      }
      return c.state.counter;
    },
    snapshot: (c) => ({ state: c.state, secret: c.privateState.secret }),
  },
});
const registry = setup({ use: { board } });

/** A driver that records every commit it is asked to write. */
function recording(inner: MemoryDriver): { driver: Driver; appends: number } {
  const box = { driver: inner as Driver, appends: 0 };
  box.driver = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "append") {
        return (...args: Parameters<Driver["append"]>) => {
          box.appends++;
          return target.append(...args);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  return box;
}

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

describe("an action that throws leaves no trace", () => {
  for (const seed of seeds(40)) {
    test(`seed ${seed}`, async () => {
      const r = random(seed);
      const memory = memoryDriver();
      const rec = recording(memory);
      const server = createServer(registry, { driver: rec.driver, logger: false, sleepAfterMs: 0 });
      closers.push(() => server.close());
      const handle = server.client.board.getOrCreate(["seed", String(seed)]);
      await handle.seed(3);
      const instance = [...server.runtime.loaded.values()][0]!;
      const updates: Uint8Array[] = [];
      instance.updateListeners.add((update) => updates.push(update));
      const conn = handle.connect();
      await conn.whenSynced();
      const events: unknown[] = [];
      conn.on("changed", (payload) => events.push(payload));

      for (let round = 0; round < 8; round++) {
        const ops = Array.from({ length: 1 + r.int(12) }, () => r.int(64));
        const fail = r.pick(["no", "sync", "async"] as const);
        const before = { doc: Y.encodeStateAsUpdate(instance.doc), snap: await handle.snapshot(), appends: rec.appends, updates: updates.length, events: events.length };
        const call = handle.edit(ops, fail);
        if (fail === "no") {
          await call;
          expect(rec.appends).toBe(before.appends + 1);
        } else {
          await expect(call).rejects.toMatchObject({ code: fail === "sync" ? "user_error" : "internal_error" });
          await new Promise((resolve) => setTimeout(resolve, 0));
          expect(Y.encodeStateAsUpdate(instance.doc), `seed ${seed} round ${round}`).toEqual(before.doc);
          expect(await handle.snapshot()).toEqual(before.snap);
          expect(rec.appends).toBe(before.appends);
          expect(updates.length).toBe(before.updates);
          expect(events.length).toBe(before.events);
        }
      }
      // What is stored is what is live: a fresh server over the same storage reads the same.
      const live = await handle.snapshot();
      await conn.dispose();
      await server.close();
      const again = createServer(registry, { driver: memory, logger: false, sleepAfterMs: 0 });
      closers.push(() => again.close());
      expect(await again.client.board.get(["seed", String(seed)]).snapshot()).toEqual(live);
    });
  }
});

test("a throwing action's schedule never fires and its privateState change is rolled back", async () => {
  const server = createServer(registry, { logger: false });
  closers.push(() => server.close());
  const handle = server.client.board.getOrCreate("x");
  await handle.seed(1);
  await expect(handle.edit([5, 5], "sync", 10)).rejects.toThrow("refused");
  await new Promise((resolve) => setTimeout(resolve, 40));
  const snap = await handle.snapshot();
  expect(snap.state.items).toHaveLength(1); // the scheduled seed(1) never ran
  expect(snap.secret).toBe(0);
  expect(snap.state.counter).toBe(0);
});

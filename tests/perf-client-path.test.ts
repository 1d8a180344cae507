/**
 * The client's cheap action path keeps its guarantees: writes queued behind a pending one
 * merge into one storage batch with the outcome of running them one by one; actions made
 * back to back are stored with increasing seqs in call order, also across a reserved block
 * of seqs running out, and their arguments are copied at the call; primitive or not.
 */
import { describe, expect, test } from "vitest";
import { actor, setup } from "tandem";
import { createClient, memoryStorage, type ClientStorage } from "tandem/client";
import { memoryDriver } from "tandem/server";
import { ReplicaStore } from "../client/replica-store.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { waitFor } from "./seed-helpers.ts";

/** A memory storage whose batches wait for `release()` while held, and are counted. */
function heldStorage(): { storage: ClientStorage; batches: number; hold(): void; release(): void } {
  const inner = memoryStorage();
  let gate: Promise<void> | null = null;
  let open: () => void = () => undefined;
  const state = {
    batches: 0,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = null;
      open();
    },
    storage: {
      ...inner,
      async batch(puts: readonly (readonly [string, unknown])[], deletes?: readonly string[]) {
        state.batches++;
        if (gate !== null) await gate;
        await inner.batch(puts, deletes);
      },
    } as ClientStorage,
  };
  return state;
}

describe("replica store: merged writes", () => {
  test("writes behind a pending batch go into one batch, later writes of a key winning", async () => {
    const held = heldStorage();
    const store = new ReplicaStore(held.storage, "r1", () => undefined);
    held.hold();
    const first = store.addAction({ seq: 1, name: "a", args: [], createdAt: 0 });
    await Promise.resolve();
    await Promise.resolve(); // the first batch has started and waits
    expect(held.batches).toBe(1);
    const update = new Uint8Array([1, 2, 3]);
    const second = store.addAction({ seq: 2, name: "b", args: [1], createdAt: 0 });
    store.dropAction(2); // put, then delete in the same batch: gone
    store.dropAction(1); // deletes what the first batch stores
    const third = store.addAction({ seq: 3, name: "c", args: [], createdAt: 0 });
    store.dropAction(3);
    const fourth = store.addAction({ seq: 3, name: "c", args: ["again"], createdAt: 0 }); // delete, then put: there
    store.confirmed(update, {});
    held.release();
    await Promise.all([first, second, third, fourth, store.flushed()]);
    expect(held.batches).toBe(2);
    const loaded = await store.load();
    expect(loaded.outbox.map((record) => [record.seq, record.args])).toEqual([[3, ["again"]]]);
    expect(loaded.confirmed).toEqual([update]);
  });

  test("a compaction drops the updates still waiting in the batch", async () => {
    const held = heldStorage();
    const store = new ReplicaStore(held.storage, "r2", () => undefined);
    held.hold();
    store.confirmed(new Uint8Array([9]), {});
    await Promise.resolve();
    await Promise.resolve();
    store.confirmed(new Uint8Array([1]), {});
    store.confirmed(new Uint8Array([2]), {});
    store.compact(new Uint8Array([7, 7]));
    held.release();
    await store.flushed();
    const loaded = await store.load();
    expect(loaded.confirmed).toEqual([new Uint8Array([7, 7])]);
  });
});

const counter = actor({
  state: { n: 0, seen: [] as number[] },
  actions: {
    add: (c, by: number) => {
      c.state.n += by;
      c.state.seen.push(by);
      return c.state.n;
    },
    put: (c, value: { list: number[] }) => {
      c.state.seen.push(value.list.length);
      return value.list.length;
    },
  },
});
const registry = setup({ use: { counter } });
type R = typeof registry;

describe("the action path", () => {
  const net = useNetwork();

  test("back-to-back actions beyond a block of seqs are stored in call order and applied once each, in order", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const client = net.client<R>(server.url, { storage: memoryStorage() });
    const conn = client.counter.getOrCreate("order").connect();
    await conn.whenSynced();
    const count = 1_500; // more than one reserved block of seqs (1,000)
    const results = await Promise.all(Array.from({ length: count }, (_, i) => conn.add(i + 1)));
    expect(results).toEqual(Array.from({ length: count }, (_, i) => ((i + 1) * (i + 2)) / 2));
    expect(conn.state?.seen).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    await conn.whenSynced();
    expect(conn.outbox).toEqual([]);
  });

  test("offline, the outbox holds every call with increasing seqs; arguments are copied at the call", async () => {
    const storage = memoryStorage();
    const offline = createClient<R>("http://127.0.0.1:9", { storage, backoff: { baseMs: 60_000, maxMs: 60_000 } });
    const conn = offline.counter.getOrCreate("offline").connect();
    const value = { list: [1, 2] };
    const calls = [conn.add(1), conn.put(value), conn.add(2)];
    for (const call of calls) call.catch(() => undefined);
    value.list.push(3); // after the call: not what the action gets
    await waitFor(() => conn.outbox.length === 3 && conn.outbox.every((entry) => entry.seq > 0), { what: "the outbox to be stored" });
    const seqs = conn.outbox.map((entry) => entry.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(3);
    expect(conn.outbox.map((entry) => [entry.name, entry.args])).toEqual([
      ["add", [1]],
      ["put", [{ list: [1, 2] }]],
      ["add", [2]],
    ]);
    await expect(conn.add((() => 1) as unknown as number)).rejects.toMatchObject({ code: "invalid_arguments" });
    conn.dispose();
    offline.dispose();
  });
});

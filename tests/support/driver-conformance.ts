/**
 * The driver conformance suite: what every implementation of `Driver`
 * (server/drivers/driver.ts) must do, run against each of them (server/drivers/memory.test.ts,
 * server/drivers/file.test.ts). It lives with the tests, outside the shipped server/ folder. A driver passes
 * only what a runtime could observe through the interface; implementation details (files,
 * keys, fsyncs) have their own tests next to the driver.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import * as Y from "yjs";
import { ActorAlreadyExists, StaleLease } from "../../shared/errors.ts";
import type { ActorMeta, Commit, Driver, Lease, ScheduleEntry, SeqRecord, Snapshot, StoredActor } from "../../server/drivers/driver.ts";

export interface DriverHarness {
  readonly driver: Driver;
  /** Another driver on the same storage, as a restarted server would open it. */
  readonly reopen?: () => Promise<Driver>;
  /** Closes every driver the harness handed out and removes what it stored. */
  cleanup(): Promise<void>;
}

const CREATED_AT = 1_700_000_000_000;

export function metaOf(id: string, name = "room", key: readonly string[] = [id]): ActorMeta {
  return { id, name, key: [...key], createdAt: CREATED_AT };
}

/** A document and the updates of its successive changes, as an actor would commit them. */
export class History {
  readonly doc = new Y.Doc();
  private vector = Y.encodeStateVector(this.doc);

  change(fn: (doc: Y.Doc) => void): Uint8Array {
    Y.transact(this.doc, () => fn(this.doc));
    const update = Y.encodeStateAsUpdate(this.doc, this.vector);
    this.vector = Y.encodeStateVector(this.doc);
    return update;
  }

  push(value: unknown): Uint8Array {
    return this.change((doc) => doc.getArray("items").push([value]));
  }
}

export function replay(stored: StoredActor): Y.Doc {
  const doc = new Y.Doc();
  for (const update of stored.updates) Y.applyUpdate(doc, update);
  return doc;
}

export function items(doc: Y.Doc): unknown[] {
  return doc.getArray("items").toJSON();
}

function ok(clientId: string, seq: number, value: unknown): SeqRecord {
  return { clientId, seq, result: { ok: true, value } };
}

function schedule(id: string, at: number, ...args: unknown[]): ScheduleEntry {
  return { id, at, action: "tick", args };
}

/** JSON-ish values of every kind the runtime stores (privateState, results, schedule args). */
const VALUES = {
  text: "héllo wörld ✓ 𝄞",
  empty: "",
  int: 42,
  negative: -7,
  big: 2 ** 40 + 3,
  max: Number.MAX_SAFE_INTEGER,
  float: 0.1 + 0.2,
  tiny: 5e-324,
  flags: [true, false, null],
  nested: { a: { b: { c: [1, [2, [3, {}]], []] } } },
  "key with spaces": 1,
};

export function driverConformance(name: string, make: () => Promise<DriverHarness>): void {
  describe(`driver conformance: ${name}`, () => {
    let harness: DriverHarness;
    let driver: Driver;

    beforeEach(async () => {
      harness = await make();
      driver = harness.driver;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    /** Acquires and creates an actor whose first commit pushes `first` (default "created"). */
    async function createActor(id: string, first: Commit = {}, key?: readonly string[]): Promise<{ lease: Lease; history: History; meta: ActorMeta }> {
      const lease = await driver.acquire(id);
      const history = new History();
      const meta = metaOf(id, "room", key);
      await driver.create(meta, { update: history.push("created"), ...first }, lease);
      return { lease, history, meta };
    }

    test("a missing actor loads as null and has no meta", async () => {
      const lease = await driver.acquire("missing");
      expect(await driver.load("missing", lease)).toBeNull();
      expect(await driver.meta("missing")).toBeNull();
    });

    test("create then load: meta, the document and privateState round-trip", async () => {
      const lease = await driver.acquire("a1");
      const history = new History();
      const update = history.change((doc) => {
        doc.getMap("root").set("title", "Board");
        doc.getText("notes").insert(0, "hello");
        doc.getArray("items").push([1, "two", { three: 3 }]);
      });
      await driver.create(metaOf("a1", "board", ["org", "a1"]), { update, privateState: { secret: "s" } }, lease);

      const stored = (await driver.load("a1", lease))!;
      expect(stored.meta).toEqual(metaOf("a1", "board", ["org", "a1"]));
      expect(stored.privateState).toEqual({ secret: "s" });
      expect(stored.commitsSinceSnapshot).toBe(1);
      expect(stored.updates).toHaveLength(1);
      const doc = replay(stored);
      expect(doc.getMap("root").toJSON()).toEqual({ title: "Board" });
      expect(doc.getText("notes").toString()).toBe("hello");
      expect(doc.getArray("items").toJSON()).toEqual([1, "two", { three: 3 }]);
    });

    test("creating an actor twice fails with ActorAlreadyExists", async () => {
      await createActor("dup");
      const lease = await driver.acquire("dup");
      await expect(driver.create(metaOf("dup"), { update: new History().push("again") }, lease)).rejects.toBeInstanceOf(ActorAlreadyExists);
      // The original is untouched.
      expect(items(replay((await driver.load("dup", lease))!))).toEqual(["created"]);
    });

    test("appends are loaded in the order they were made, even when not awaited one by one", async () => {
      const { lease, history } = await createActor("order");
      const updates: Uint8Array[] = [];
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 40; i++) {
        const update = history.push(i);
        updates.push(update);
        writes.push(driver.append("order", { update, privateState: i }, lease));
      }
      await Promise.all(writes);
      const stored = (await driver.load("order", lease))!;
      expect(stored.updates.slice(1).map((u) => [...u])).toEqual(updates.map((u) => [...u]));
      expect(stored.privateState).toBe(39);
      expect(stored.commitsSinceSnapshot).toBe(41);
      expect(items(replay(stored))).toEqual(["created", ...Array.from({ length: 40 }, (_, i) => i)]);
    });

    test("folding: the last privateState wins, seqs are the last per client, schedules put and removed", async () => {
      const { lease } = await createActor("fold", {
        privateState: { n: 0 },
        seqs: [ok("c1", 1, "a")],
        schedules: { put: [schedule("s1", 100), schedule("s2", 200)] },
        alarm: 100,
      });
      const failure: SeqRecord = {
        clientId: "c2",
        seq: 1,
        result: { ok: false, error: { code: "user_error", message: "no", group: "user", metadata: { why: 1 } } },
      };
      await driver.append("fold", { seqs: [ok("c1", 2, { x: [1, 2] }), failure] }, lease);
      await driver.append("fold", { schedules: { put: [schedule("s3", 300, 1, "x", { deep: [true, null] })], remove: ["s1"] }, alarm: 200 }, lease);
      await driver.append("fold", { privateState: undefined }, lease);
      await driver.append("fold", { update: new History().push("unrelated") }, lease);

      let stored = (await driver.load("fold", lease))!;
      expect(stored.privateState).toBeUndefined();
      expect(Object.fromEntries(stored.seqs)).toEqual({ c1: ok("c1", 2, { x: [1, 2] }), c2: failure });
      expect(stored.schedules).toEqual([schedule("s2", 200), schedule("s3", 300, 1, "x", { deep: [true, null] })]);

      await driver.append("fold", { privateState: { back: "yes" }, seqs: [ok("c2", 2, null)] }, lease);
      stored = (await driver.load("fold", lease))!;
      expect(stored.privateState).toEqual({ back: "yes" });
      expect(stored.seqs.get("c2")).toEqual(ok("c2", 2, null));
      expect(stored.commitsSinceSnapshot).toBe(6);
    });

    test("seq records: seqsRemoved deletes records (before the commit's own seqs), `at` round-trips, across a reopen", async () => {
      const at = 1_700_000_000_123.5;
      const { lease } = await createActor("prune", { seqs: [{ ...ok("a\u00001", 1, "x"), at }, ok("b\u00001", 1, "y")] });
      await driver.append("prune", { seqs: [ok("c\u00001", 1, "z")], seqsRemoved: ["b\u00001", "never-stored"] }, lease);
      await driver.append("prune", { seqs: [{ ...ok("a\u00001", 1, "again"), at: at + 1 }], seqsRemoved: ["a\u00001"] }, lease);
      let stored = (await driver.load("prune", lease))!;
      expect(Object.fromEntries(stored.seqs)).toEqual({ "a\u00001": { ...ok("a\u00001", 1, "again"), at: at + 1 }, "c\u00001": ok("c\u00001", 1, "z") });
      await driver.append("prune", { seqsRemoved: ["c\u00001"] }, lease);
      stored = (await driver.load("prune", lease))!;
      expect([...stored.seqs.keys()]).toEqual(["a\u00001"]);
      if (harness.reopen !== undefined) {
        await driver.close();
        driver = await harness.reopen();
        const next = await driver.acquire("prune");
        expect((await driver.load("prune", next))!.seqs).toEqual(stored.seqs);
      }
    });

    test("JSON-ish values round-trip in privateState, results and schedule arguments", async () => {
      const { lease } = await createActor("values", { privateState: VALUES });
      // Seq records are kept per key as given (the runtime uses "client␀slot" keys too).
      await driver.append("values", { seqs: [ok("c", 1, VALUES), ok("c\u00001", 1, [VALUES])], schedules: { put: [schedule("s", 1, VALUES, [VALUES])] }, alarm: 1 }, lease);
      const stored = (await driver.load("values", lease))!;
      expect(stored.privateState).toEqual(VALUES);
      expect(stored.seqs.get("c")!.result).toEqual({ ok: true, value: VALUES });
      expect(stored.seqs.get("c\u00001")).toEqual(ok("c\u00001", 1, [VALUES]));
      expect(stored.schedules[0]!.args).toEqual([VALUES, [VALUES]]);
    });

    test("a \"__proto__\" key in stored values stays data", async () => {
      const tricky = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
      const { lease } = await createActor("proto", { privateState: tricky });
      await driver.append("proto", { seqs: [ok("c", 1, tricky)] }, lease);
      const stored = (await driver.load("proto", lease))!;
      const state = stored.privateState as Record<string, unknown>;
      expect(Object.getPrototypeOf(state)).toBe(Object.prototype);
      expect(Object.keys(state)).toEqual(["__proto__", "a"]);
      expect(Object.getOwnPropertyDescriptor(state, "__proto__")?.value).toEqual({ polluted: true });
      expect(Object.keys((stored.seqs.get("c")!.result as { value: object }).value)).toEqual(["__proto__", "a"]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    test("appending to or compacting an actor that does not exist fails", async () => {
      const lease = await driver.acquire("ghost");
      await expect(driver.append("ghost", { update: new History().push(1) }, lease)).rejects.toMatchObject({ code: "storage_corrupt" });
      await expect(driver.compact("ghost", { doc: new Uint8Array([0, 0]), privateState: null, seqs: [], schedules: [], alarm: null }, lease)).rejects.toMatchObject({
        code: "storage_corrupt",
      });
      expect(await driver.load("ghost", lease)).toBeNull();
    });

    test("compact, then append, then load: the snapshot first, then the commits after it", async () => {
      const { lease, history } = await createActor("compact", { seqs: [ok("c1", 1, "one")], privateState: "first" });
      for (let i = 0; i < 5; i++) await driver.append("compact", { update: history.push(i) }, lease);
      const snapshot: Snapshot = {
        doc: Y.encodeStateAsUpdate(history.doc),
        privateState: { compacted: true },
        seqs: [ok("c1", 3, "three")],
        schedules: [schedule("keep", 500)],
        alarm: 500,
      };
      await driver.compact("compact", snapshot, lease);

      let stored = (await driver.load("compact", lease))!;
      expect(stored.commitsSinceSnapshot).toBe(0);
      expect(stored.updates).toHaveLength(1);
      expect(stored.privateState).toEqual({ compacted: true });

      await driver.append("compact", { update: history.push("after"), seqs: [ok("c2", 1, "x")] }, lease);
      await driver.append("compact", { update: history.push("after2"), schedules: { remove: ["keep"] }, alarm: null }, lease);
      stored = (await driver.load("compact", lease))!;
      expect(stored.commitsSinceSnapshot).toBe(2);
      expect(stored.updates).toHaveLength(3);
      expect(items(replay(stored))).toEqual(["created", 0, 1, 2, 3, 4, "after", "after2"]);
      expect(stored.privateState).toEqual({ compacted: true });
      expect(Object.fromEntries(stored.seqs)).toEqual({ c1: ok("c1", 3, "three"), c2: ok("c2", 1, "x") });
      expect(stored.schedules).toEqual([]);

      // A second compaction replaces the first snapshot and the commits after it.
      await driver.compact("compact", { doc: Y.encodeStateAsUpdate(history.doc), privateState: 2, seqs: [], schedules: [], alarm: null }, lease);
      await driver.append("compact", { update: history.push("last") }, lease);
      stored = (await driver.load("compact", lease))!;
      expect(stored.commitsSinceSnapshot).toBe(1);
      expect(stored.privateState).toBe(2);
      expect(stored.seqs.size).toBe(0);
      expect(items(replay(stored))).toEqual(["created", 0, 1, 2, 3, 4, "after", "after2", "last"]);
    });

    test("a second acquire fences the first lease off: its writes and loads are refused", async () => {
      const { lease: first, history } = await createActor("fence");
      await driver.append("fence", { update: history.push("by first") }, first);
      const second = await driver.acquire("fence");
      expect(second.token).toBeGreaterThan(first.token);

      await expect(driver.append("fence", { update: new History().push("stale") }, first)).rejects.toBeInstanceOf(StaleLease);
      await expect(driver.compact("fence", { doc: Y.encodeStateAsUpdate(history.doc), privateState: null, seqs: [], schedules: [], alarm: null }, first)).rejects.toBeInstanceOf(
        StaleLease,
      );
      await expect(driver.load("fence", first)).rejects.toBeInstanceOf(StaleLease);

      const stored = (await driver.load("fence", second))!;
      expect(items(replay(stored))).toEqual(["created", "by first"]);
      await driver.append("fence", { update: history.push("by second") }, second);
      expect(items(replay((await driver.load("fence", second))!))).toEqual(["created", "by first", "by second"]);
    });

    test("a stale lease cannot create an actor", async () => {
      const first = await driver.acquire("fence-create");
      await driver.acquire("fence-create");
      await expect(driver.create(metaOf("fence-create"), { update: new History().push(1) }, first)).rejects.toBeInstanceOf(StaleLease);
      expect(await driver.meta("fence-create")).toBeNull();
    });

    test("tokens keep increasing across release and acquire", async () => {
      const { lease } = await createActor("tokens");
      await driver.release(lease);
      const next = await driver.acquire("tokens");
      expect(next.token).toBeGreaterThan(lease.token);
      expect(await driver.load("tokens", next)).not.toBeNull();
    });

    test("a missing actor's released token is never handed out again: stale leases stay fenced off", async () => {
      // A lookup of a missing actor: acquire, load (null), release — and again, a newer owner
      // while the first lease was still out.
      const first = await driver.acquire("missing-fence");
      expect(await driver.load("missing-fence", first)).toBeNull();
      const second = await driver.acquire("missing-fence");
      await driver.release(second);
      await driver.release(first); // stale: changes nothing
      const third = await driver.acquire("missing-fence");
      expect(third.token).toBeGreaterThan(second.token);
      await driver.release(third);
      // Released and forgotten: its lease does not come back to life either.
      await expect(driver.create(metaOf("missing-fence"), { update: new History().push(1) }, third)).rejects.toBeInstanceOf(StaleLease);
      const fourth = await driver.acquire("missing-fence");
      expect(fourth.token).toBeGreaterThan(third.token);
      for (const stale of [first, second, third]) {
        await expect(driver.create(metaOf("missing-fence"), { update: new History().push(1) }, stale)).rejects.toBeInstanceOf(StaleLease);
      }
      await driver.create(metaOf("missing-fence"), { update: new History().push("ok") }, fourth);
      expect(items(replay((await driver.load("missing-fence", fourth))!))).toEqual(["ok"]);
    });

    test("meta() returns the actor's name and key", async () => {
      const { meta } = await createActor("meta-1", {}, ["org ✓", "", "a/b\\c"]);
      expect(await driver.meta("meta-1")).toEqual(meta);
    });

    test("alarms() lists the earliest schedule of each actor that has one", async () => {
      const { lease } = await createActor("alarm-a", { schedules: { put: [schedule("s", 1000)] }, alarm: 1000 }, ["a"]);
      await createActor("alarm-none", {}, ["none"]);
      const { lease: leaseB } = await createActor("alarm-b", {}, ["b"]);
      const byId = async () => Object.fromEntries((await driver.alarms()).map((alarm) => [alarm.id, alarm]));

      expect(await byId()).toEqual({ "alarm-a": { id: "alarm-a", name: "room", key: ["a"], at: 1000 } });

      await driver.append("alarm-b", { schedules: { put: [schedule("t", 50)] }, alarm: 50 }, leaseB);
      await driver.append("alarm-a", { schedules: { put: [schedule("u", 500)] }, alarm: 500 }, lease);
      expect(await byId()).toEqual({
        "alarm-a": { id: "alarm-a", name: "room", key: ["a"], at: 500 },
        "alarm-b": { id: "alarm-b", name: "room", key: ["b"], at: 50 },
      });

      await driver.append("alarm-a", { schedules: { remove: ["u", "s"] }, alarm: null }, lease);
      await driver.append("alarm-b", { update: new History().push("no schedule change") }, leaseB);
      expect(Object.keys(await byId())).toEqual(["alarm-b"]);

      await driver.compact("alarm-a", { doc: new Uint8Array([0, 0]), privateState: null, seqs: [], schedules: [schedule("v", 700)], alarm: 700 }, lease);
      expect((await byId())["alarm-a"]).toEqual({ id: "alarm-a", name: "room", key: ["a"], at: 700 });
    });

    test("actors are independent: interleaved appends to several actors", async () => {
      const actors = await Promise.all(["x1", "x2", "x3"].map((id) => createActor(id)));
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 10; i++) {
        actors.forEach(({ lease, history }, n) => writes.push(driver.append(lease.id, { update: history.push(`${n}:${i}`) }, lease)));
      }
      await Promise.all(writes);
      for (const [n, { lease }] of actors.entries()) {
        const stored = (await driver.load(lease.id, lease))!;
        expect(items(replay(stored))).toEqual(["created", ...Array.from({ length: 10 }, (_, i) => `${n}:${i}`)]);
      }
    });

    test("reopening the storage keeps actors, snapshots, alarms and tokens", async (context) => {
      if (harness.reopen === undefined) return context.skip();
      const { lease, history, meta } = await createActor("keep", { privateState: { v: 1 }, seqs: [ok("c", 1, "r")] }, ["k"]);
      for (let i = 0; i < 3; i++) await driver.append("keep", { update: history.push(i) }, lease);
      await driver.compact(
        "keep",
        { doc: Y.encodeStateAsUpdate(history.doc), privateState: { v: 2 }, seqs: [ok("c", 4, "r4")], schedules: [schedule("s", 900)], alarm: 900 },
        lease,
      );
      await driver.append("keep", { update: history.push("tail"), privateState: { v: 3 } }, lease);
      await createActor("other");
      const before = (await driver.load("keep", lease))!;

      await driver.close();
      driver = await harness.reopen();
      const next = await driver.acquire("keep");
      expect(next.token).toBeGreaterThan(lease.token);
      const after = (await driver.load("keep", next))!;
      expect(after.meta).toEqual(meta);
      expect(after.updates.map((u) => [...u])).toEqual(before.updates.map((u) => [...u]));
      expect(after.privateState).toEqual({ v: 3 });
      expect(after.seqs).toEqual(before.seqs);
      expect(after.schedules).toEqual([schedule("s", 900)]);
      expect(after.commitsSinceSnapshot).toBe(1);
      expect(items(replay(after))).toEqual(["created", 0, 1, 2, "tail"]);
      expect(await driver.meta("other")).toEqual(metaOf("other"));
      expect(await driver.alarms()).toEqual([{ id: "keep", name: "room", key: ["k"], at: 900 }]);
      const again = await driver.acquire("other");
      await expect(driver.create(metaOf("other"), { update: new History().push(1) }, again)).rejects.toBeInstanceOf(ActorAlreadyExists);
    });
  });
}

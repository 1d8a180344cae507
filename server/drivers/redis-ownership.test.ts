/**
 * The Redis driver's ownership facet with two driver instances ("nodes") on one real Redis:
 * live leases refuse other nodes, expired ones move with a higher token, and the old
 * owner's writes and loads are then refused by Redis (counted), whatever it believes.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import * as Y from "yjs";
import { StaleLease } from "../../shared/errors.ts";
import { History, items, metaOf, replay } from "../../tests/support/driver-conformance.ts";
import { RedisServer } from "../../tests/support/redis-server.ts";
import { HeldElsewhere, type Lease } from "./driver.ts";
import { type RedisDriver, type RedisDriverOptions, redisDriver } from "./redis.ts";

const quiet = { warn() {} };
const LEASE_MS = 300;
let server: RedisServer;
let admin: Redis;
let prefixes = 0;
const drivers: RedisDriver[] = [];
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
});
afterAll(async () => {
  await admin?.quit();
  await server?.stop();
});
afterEach(async () => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  for (const driver of drivers.splice(0)) await driver.close();
});

/** Two nodes on a fresh key prefix. */
function cluster(options: Partial<RedisDriverOptions> = {}): { a: RedisDriver; b: RedisDriver; prefix: string } {
  const prefix = `own${++prefixes}:`;
  const open = (nodeId: string) => {
    const driver = redisDriver({ url: server.url, keyPrefix: prefix, nodeId, leaseMs: LEASE_MS, log: quiet, ...options });
    drivers.push(driver);
    return driver;
  };
  return { a: open("node-a"), b: open("node-b"), prefix };
}

/** Renews `leases` of `driver` every LEASE_MS / 3 until the test ends. */
function keepRenewing(driver: RedisDriver, leases: Lease[]): void {
  timers.push(setInterval(() => void driver.ownership.renew(leases).catch(() => undefined), LEASE_MS / 3));
}

/** Retries `b.acquire(id)` until the lease is free (bounded: 50 × LEASE_MS / 5). */
async function acquireOnceFree(driver: RedisDriver, id: string): Promise<Lease> {
  for (let i = 0; i < 50; i++) {
    try {
      return await driver.acquire(id);
    } catch (error) {
      if (!(error instanceof HeldElsewhere)) throw error;
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS / 5));
    }
  }
  throw new Error(`lease of ${id} never came free`);
}

async function refusals(prefix: string): Promise<number> {
  return Number((await admin.get(`${prefix}refusals`)) ?? 0);
}

describe("redis driver: ownership between nodes", () => {
  test("a live lease of another node: HeldElsewhere while it renews; owner() names it and its URL", async () => {
    const { a, b } = cluster();
    await a.ownership.announce("http://10.0.0.1:8080");
    const lease = await a.acquire("room");
    await a.create(metaOf("room"), { update: new History().push("a") }, lease);
    keepRenewing(a, [lease]);

    for (let i = 0; i < 4; i++) {
      const refused = await b.acquire("room").catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(HeldElsewhere);
      expect(refused).toMatchObject({ actorId: "room", ownerNodeId: "node-a" });
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS / 2)); // past the lease time in total: renewal keeps it
    }
    expect(await b.ownership.owner("room")).toEqual({ nodeId: "node-a", url: "http://10.0.0.1:8080" });
    expect(await b.ownership.owner("nobody-has-this")).toBeNull();
    // The owner's own acquire takes its lease over with a new token (as on one process).
    const again = await a.acquire("room");
    expect(again.token).toBeGreaterThan(lease.token);
  });

  test("after the owner stops renewing, another node takes over with a higher token; the old owner's writes, compaction and load are refused by Redis", async () => {
    const { a, b, prefix } = cluster();
    const leaseA = await a.acquire("doc");
    const history = new History();
    await a.create(metaOf("doc"), { update: history.push("by a") }, leaseA);
    await a.append("doc", { update: history.push("a again") }, leaseA);

    const leaseB = await acquireOnceFree(b, "doc");
    expect(leaseB.token).toBeGreaterThan(leaseA.token);
    const before = await refusals(prefix);

    await expect(a.append("doc", { update: new History().push("stale") }, leaseA)).rejects.toBeInstanceOf(StaleLease);
    await expect(a.compact("doc", { doc: Y.encodeStateAsUpdate(history.doc), privateState: null, seqs: [], schedules: [], alarm: null }, leaseA)).rejects.toBeInstanceOf(StaleLease);
    await expect(a.load("doc", leaseA)).rejects.toBeInstanceOf(StaleLease);
    expect(await refusals(prefix)).toBe(before + 3);
    expect(await a.ownership.renew([leaseA])).toEqual([leaseA]);
    // node-b holds the lease but has not announced an address yet: nobody can reach it.
    expect(await a.ownership.owner("doc")).toBeNull();
    await b.ownership.announce("http://b.example:2");
    expect(await a.ownership.owner("doc")).toEqual({ nodeId: "node-b", url: "http://b.example:2" });

    await b.append("doc", { update: history.push("by b") }, leaseB);
    expect(items(replay((await b.load("doc", leaseB))!))).toEqual(["by a", "a again", "by b"]);
    expect(await b.commitTokens("doc")).toEqual([leaseA.token, leaseA.token, leaseB.token]);
    // A's stale release leaves B's lease alone.
    await a.release(leaseA);
    await expect(a.acquire("doc")).rejects.toBeInstanceOf(HeldElsewhere);
  });

  test("an expired lease nobody took over still refuses the late write (the lease must exist)", async () => {
    const { a, prefix } = cluster();
    const lease = await a.acquire("late");
    await a.create(metaOf("late"), { update: new History().push(1) }, lease);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
    const before = await refusals(prefix);
    await expect(a.append("late", { update: new History().push(2) }, lease)).rejects.toBeInstanceOf(StaleLease);
    expect(await refusals(prefix)).toBe(before + 1);
    expect(await a.ownership.renew([lease])).toEqual([lease]);
  });

  test("a token handed out twice (the counter rolled back by a Redis crash without fsync): the older holder still cannot write", async () => {
    const { a, b, prefix } = cluster();
    const leaseA = await a.acquire("twice");
    await a.create(metaOf("twice"), { update: new History().push("a") }, leaseA);
    // What a crash before the fsync of the INCR and of the lease looks like: both rolled back.
    await admin.del(`${prefix}lease:twice`);
    await admin.set(`${prefix}token`, leaseA.token - 1);
    const leaseB = await b.acquire("twice");
    expect(leaseB.token).toBe(leaseA.token);
    const before = await refusals(prefix);
    await expect(a.append("twice", { update: new History().push("by a") }, leaseA)).rejects.toBeInstanceOf(StaleLease);
    await expect(a.load("twice", leaseA)).rejects.toBeInstanceOf(StaleLease);
    expect(await refusals(prefix)).toBe(before + 2);
    await b.append("twice", { update: new History().push("by b") }, leaseB);
    expect((await b.load("twice", leaseB))!.commitsSinceSnapshot).toBe(2);
  });

  test("renew keeps only the leases still held, in one call, and refreshes the announcement", async () => {
    const { a, b } = cluster();
    await a.ownership.announce("http://a.example:1");
    const kept = await a.acquire("kept");
    const lost = await a.acquire("lost");
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS / 2));
    expect(await a.ownership.renew([kept])).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS / 2 + 50));
    // "lost" expired (never renewed), "kept" lives on.
    await b.acquire("lost");
    await expect(b.acquire("kept")).rejects.toBeInstanceOf(HeldElsewhere);
    expect(await a.ownership.renew([kept, lost])).toEqual([lost]);
    // The announcement lives 2 × leaseMs and is refreshed by renew.
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS / 2));
      await a.ownership.renew([kept]);
    }
    expect(await b.ownership.owner("kept")).toEqual({ nodeId: "node-a", url: "http://a.example:1" });
  });

  test("dueAlarms lists due alarms of every actor, whoever owns them; the secret is one for all nodes", async () => {
    const { a, b } = cluster();
    const leaseA = await a.acquire("x");
    await a.create(metaOf("x", "room", ["kx"]), { schedules: { put: [{ id: "s", at: 100, action: "tick", args: [] }] }, alarm: 100 }, leaseA);
    const leaseB = await b.acquire("y");
    await b.create(metaOf("y", "room", ["ky"]), { schedules: { put: [{ id: "s", at: 300, action: "tick", args: [] }] }, alarm: 300 }, leaseB);
    expect(await a.ownership.dueAlarms(50)).toEqual([]);
    expect(await a.ownership.dueAlarms(100)).toEqual([{ id: "x", name: "room", key: ["kx"], at: 100 }]);
    expect(await b.ownership.dueAlarms(1000)).toEqual([
      { id: "x", name: "room", key: ["kx"], at: 100 },
      { id: "y", name: "room", key: ["ky"], at: 300 },
    ]);
    const secret = await a.ownership.secret();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(await b.ownership.secret()).toBe(secret);
  });
});

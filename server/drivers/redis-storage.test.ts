/**
 * What the Redis driver keeps in Redis: nothing per actor after lookups of missing actors,
 * StorageCorrupt (never other data) for damaged records, and the write-sequence check of the
 * fencing script (a write whose predecessor never reached Redis is refused, and the lease
 * with it).
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { actor, setup } from "../../shared/index.ts";
import { StaleLease, StorageCorrupt, StorageUnavailable } from "../../shared/errors.ts";
import { createServer } from "../create-server.ts";
import { History, items, metaOf, replay } from "../../tests/support/driver-conformance.ts";
import { RedisServer } from "../../tests/support/redis-server.ts";
import { type RedisDriver, type RedisDriverOptions, redisDriver } from "./redis.ts";
import { encodeCommitRecord } from "./redis/records.ts";
import { SCRIPTS } from "./redis/scripts.ts";

const quiet = { warn() {} };
let server: RedisServer;
let admin: Redis;
let prefixes = 0;
const drivers: RedisDriver[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
});
afterAll(async () => {
  await admin?.quit();
  await server?.stop();
});
afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.close();
});

function open(options: Partial<RedisDriverOptions> = {}): RedisDriver {
  const driver = redisDriver({ url: server.url, keyPrefix: `st${++prefixes}:`, log: quiet, ...options });
  drivers.push(driver);
  return driver;
}

async function keysOf(driver: RedisDriver): Promise<string[]> {
  return (await admin.keys(`${driver.keys.token.slice(0, -"token".length)}*`)).sort();
}

describe("redis driver: lookups of missing actors leave nothing behind", () => {
  test("acquire, load, meta, owner and release of 500 random missing ids: the key set is unchanged; leases never released expire", async () => {
    const driver = open({ leaseMs: 200 });
    const lease = await driver.acquire("exists");
    await driver.create(metaOf("exists"), { update: new History().push(1) }, lease);
    await driver.release(lease);
    const before = await keysOf(driver);
    for (let i = 0; i < 500; i++) {
      const id = `missing-${i}-${Math.random().toString(36).slice(2)}`;
      const missing = await driver.acquire(id);
      expect(await driver.load(id, missing)).toBeNull();
      expect(await driver.meta(id)).toBeNull();
      expect(await driver.ownership.owner(id)).toBeNull(); // held, but by a node that announced no address
      await driver.release(missing);
    }
    expect(await keysOf(driver)).toEqual(before);
    // Not released (a crashed node): the lease keys expire by themselves.
    for (let i = 0; i < 50; i++) await driver.acquire(`abandoned-${i}`);
    expect((await keysOf(driver)).length).toBe(before.length + 50);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await keysOf(driver)).toEqual(before);
  });

  test("through a server: actions and HTTP calls on random missing keys do not grow Redis", async () => {
    const counter = actor({ state: { n: 0 }, actions: { add: (c) => ++c.state.n } });
    const driver = open();
    const app = createServer(setup({ use: { counter } }), { driver, logger: false });
    try {
      await app.listen();
      expect(await app.client.counter.getOrCreate("exists").add()).toBe(1);
      const before = await keysOf(driver);
      for (let i = 0; i < 100; i++) {
        await expect(app.client.counter.get(`missing-${i}`).add()).rejects.toMatchObject({ code: "actor_not_found" });
        if (i % 10 === 0) {
          const response = await fetch(`${app.url}/actors/counter/actions/add`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: `http-missing-${i}` }) });
          expect(response.status).toBe(404);
        }
      }
      expect(await keysOf(driver)).toEqual(before);
    } finally {
      await app.close();
    }
  });
});

describe("redis driver: damaged data reads as StorageCorrupt", () => {
  async function stored(driver: RedisDriver, id: string) {
    const lease = await driver.acquire(id);
    const history = new History();
    await driver.create(metaOf(id), { update: history.push("a"), privateState: { p: 1 } }, lease);
    await driver.append(id, { update: history.push("b") }, lease);
    await driver.compact(id, { doc: new Uint8Array([0, 0]), privateState: 1, seqs: [], schedules: [], alarm: null }, lease);
    await driver.append(id, { update: history.push("c") }, lease);
    return lease;
  }

  const damages: Record<string, (driver: RedisDriver, id: string) => Promise<unknown>> = {
    "a flipped byte in a commit record": async (driver, id) => {
      const record = (await admin.lindexBuffer(driver.keys.log(id), 0))!;
      record[record.length - 1] ^= 0xff;
      return admin.lset(driver.keys.log(id), 0, record);
    },
    "a truncated commit record": async (driver, id) => {
      const record = (await admin.lindexBuffer(driver.keys.log(id), 0))!;
      return admin.lset(driver.keys.log(id), 0, record.subarray(0, record.length - 3));
    },
    "an empty commit record": (driver, id) => admin.lset(driver.keys.log(id), 0, ""),
    "two records glued into one": async (driver, id) => {
      const record = (await admin.lindexBuffer(driver.keys.log(id), 0))!;
      return admin.lset(driver.keys.log(id), 0, Buffer.concat([record, record]));
    },
    "a flipped byte in the snapshot": async (driver, id) => {
      const bytes = (await admin.getBuffer(driver.keys.snapshot(id)))!;
      bytes[10] ^= 0x01;
      return admin.set(driver.keys.snapshot(id), bytes);
    },
    "garbage as meta": (driver, id) => admin.set(driver.keys.meta(id), "not a tandem record"),
    "another actor's meta": async (driver, id) => {
      const other = await driver.acquire(`${id}-other`);
      await driver.create(metaOf(`${id}-other`), {}, other);
      return admin.set(driver.keys.meta(id), (await admin.getBuffer(driver.keys.meta(`${id}-other`)))!);
    },
    "a commit record of a newer owner before an older one": async (driver, id) => {
      const lease = await driver.acquire(id); // the newest owner
      return admin.lpush(driver.keys.log(id), Buffer.from(encodeCommitRecord(lease.token + 5, {})));
    },
    "a log of another type": async (driver, id) => {
      await admin.del(driver.keys.log(id));
      return admin.set(driver.keys.log(id), "a string");
    },
  };

  for (const [name, damage] of Object.entries(damages)) {
    test(name, async () => {
      const driver = open();
      const id = `c-${name.replaceAll(" ", "-")}`;
      await stored(driver, id);
      await damage(driver, id);
      const lease = await driver.acquire(id);
      const error = await driver.load(id, lease).then(
        () => null,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(StorageCorrupt);
      expect((error as Error).message.length).toBeLessThan(500);
    });
  }

  test("meta() of a damaged meta record, and alarms() skip an actor whose meta is damaged (reported)", async () => {
    const warnings: string[] = [];
    const driver = open({ log: { warn: (_obj, msg) => warnings.push(msg ?? "") } });
    const lease = await driver.acquire("al");
    await driver.create(metaOf("al"), { alarm: 5 }, lease);
    const good = await driver.acquire("ok");
    await driver.create(metaOf("ok"), { alarm: 7 }, good);
    await admin.set(driver.keys.meta("al"), Buffer.from([1, 2, 3]));
    await expect(driver.meta("al")).rejects.toBeInstanceOf(StorageCorrupt);
    expect(await driver.alarms()).toEqual([{ id: "ok", name: "room", key: ["ok"], at: 7 }]);
    expect(warnings.filter((msg) => msg.includes("alarm"))).toHaveLength(1);
  });
});

describe("redis driver: the write sequence is checked inside Redis", () => {
  test("a write whose predecessor never reached Redis is refused, and every later write of the lease with it", async () => {
    const driver = open();
    const lease = await driver.acquire("seq");
    const history = new History();
    await driver.create(metaOf("seq"), { update: history.push("first") }, lease); // write 1
    const keys = driver.keys;
    const run = (w: number, value: string) =>
      admin.eval(SCRIPTS.append, 5, keys.lease("seq"), keys.refusals, keys.meta("seq"), keys.log("seq"), keys.alarms, lease.token, w, driver.ownership.nodeId, "seq", Buffer.from(encodeCommitRecord(lease.token, { update: history.push(value) })), "");
    // Write 3 arrives, write 2 never did (a command lost with a dropped connection).
    expect(await run(3, "third")).toEqual(["gap", "1"]);
    // The lease is broken in Redis: even the "missing" write 2, arriving late, is refused, and so is the driver's own next write.
    expect(await run(2, "second")).toEqual(["gap", "-1"]);
    await expect(driver.append("seq", { update: history.push("next") }, lease)).rejects.toBeInstanceOf(StorageUnavailable);
    await expect(driver.append("seq", { update: history.push("again") }, lease)).rejects.toThrow(/earlier write/);
    // Nothing of it reached the log; a new lease writes again.
    const next = await driver.acquire("seq");
    expect(items(replay((await driver.load("seq", next))!))).toEqual(["first"]);
    await driver.append("seq", { update: history.push("ok") }, next);
    await expect(driver.append("seq", { update: history.push("stale") }, lease)).rejects.toBeInstanceOf(StaleLease);
  });
});

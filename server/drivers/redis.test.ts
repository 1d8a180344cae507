import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InvalidArguments } from "../../shared/errors.ts";
import { History, driverConformance, metaOf } from "../../tests/support/driver-conformance.ts";
import { RedisServer } from "../../tests/support/redis-server.ts";
import type { Driver, Lease } from "./driver.ts";
import { redisDriver } from "./redis.ts";

const quiet = { warn() {} };
let server: RedisServer;
let prefixes = 0;

beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server?.stop();
});

// Each test its own key prefix on the file's one server; "reopening" is a new driver on the
// same prefix with the same node id, as a node restarted with its configured id (a new node
// id would have to wait for the old process's leases to expire: see the ownership tests).
driverConformance("redis", async () => {
  const keyPrefix = `conformance${++prefixes}:`;
  const opened: Driver[] = [];
  const open = () => {
    const driver = redisDriver({ url: server.url, keyPrefix, nodeId: "conformance-node", log: quiet });
    opened.push(driver);
    return driver;
  };
  return {
    driver: open(),
    reopen: async () => open(),
    async cleanup() {
      for (const driver of opened) await driver.close();
      const redis = new Redis(server.url);
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
});

describe("redis driver: bad input gets InvalidArguments and changes nothing", () => {
  test("ids, leases, alarms, URLs and options", async () => {
    const driver = redisDriver({ url: server.url, keyPrefix: "bad:", log: quiet });
    const admin = new Redis(server.url);
    try {
      const lease = await driver.acquire("ok");
      await driver.create(metaOf("ok"), { update: new History().push("first") }, lease);
      const before = (await admin.keys("bad:*")).sort();
      const forged = { id: "ok", token: -1 } as Lease;
      const bad: (() => Promise<unknown>)[] = [
        () => driver.acquire(""),
        () => driver.acquire("x".repeat(5000)),
        () => driver.acquire(42 as unknown as string),
        () => driver.acquire("\ud800"),
        () => driver.meta(""),
        () => driver.load("ok", forged),
        () => driver.load("ok", null as unknown as Lease),
        () => driver.append("other", { update: new History().push(1) }, lease),
        () => driver.append("ok", { alarm: Number.NaN }, lease),
        () => driver.append("ok", { alarm: Infinity }, lease),
        () => driver.compact("ok", { doc: new Uint8Array([0, 0]), privateState: null, seqs: [], schedules: [], alarm: Number.NaN }, lease),
        () => driver.create({ ...metaOf("new"), id: "" }, {}, lease),
        () => driver.release({ id: "", token: 1 }),
        () => driver.ownership.owner("x".repeat(5000)),
        () => driver.ownership.announce("ftp://nowhere"),
        () => driver.ownership.announce(`http://${"x".repeat(5000)}`),
        () => driver.ownership.dueAlarms(Number.NaN),
        () => driver.ownership.renew("nope" as unknown as Lease[]),
        () => driver.ownership.renew([forged]),
      ];
      for (const call of bad) await expect(call()).rejects.toBeInstanceOf(InvalidArguments);
      expect((await admin.keys("bad:*")).sort()).toEqual(before);
      // The lease still writes: the refused calls took no write number.
      await driver.append("ok", { update: new History().push("after") }, lease);
      expect((await driver.load("ok", lease))!.commitsSinceSnapshot).toBe(2);
      for (const options of [{ url: "http://127.0.0.1:1" }, { url: server.url, leaseMs: 0 }, { url: server.url, nodeId: "" }, { url: server.url, durability: { waitReplicas: -1 } }]) {
        expect(() => redisDriver({ log: quiet, ...options })).toThrow(InvalidArguments);
      }
    } finally {
      await driver.close();
      await admin.quit();
    }
  });
});

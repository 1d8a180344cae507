/**
 * When the Redis driver acknowledges an append: with `durability.waitReplicas`, only after a
 * real replica (a second redis-server with --replicaof) confirmed it (WAIT); with the
 * replica down the append rejects and the lease may not write again. At startup the driver
 * warns when Redis is configured to lose acknowledged writes, or that it cannot check.
 */
import { Redis } from "ioredis";
import { afterEach, expect, test } from "vitest";
import { StorageUnavailable } from "../../shared/errors.ts";
import { History, metaOf } from "../../tests/support/driver-conformance.ts";
import { RedisServer, type RedisServerOptions } from "../../tests/support/redis-server.ts";
import { type RedisDriver, type RedisDriverOptions, redisDriver } from "./redis.ts";

const servers: RedisServer[] = [];
const drivers: RedisDriver[] = [];
const clients: Redis[] = [];

afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.close();
  for (const client of clients.splice(0)) client.disconnect();
  for (const server of servers.splice(0)) await server.stop();
});

async function start(options: RedisServerOptions = {}): Promise<RedisServer> {
  const server = await RedisServer.start(options);
  servers.push(server);
  return server;
}

function client(server: RedisServer): Redis {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  clients.push(redis);
  return redis;
}

function open(server: RedisServer, options: Partial<RedisDriverOptions> = {}): RedisDriver & { warnings: string[] } {
  const warnings: string[] = [];
  const driver = redisDriver({ url: server.url, nodeId: "n", log: { warn: (_obj, msg) => warnings.push(msg ?? "") }, ...options });
  drivers.push(driver);
  return Object.assign(driver, { warnings });
}

/** Waits (bounded) until the replica is synced and its primary counts it online (what WAIT counts). */
async function inSync(primary: RedisServer, replica: RedisServer): Promise<void> {
  const fromReplica = client(replica);
  const fromPrimary = client(primary);
  for (let i = 0; i < 400; i++) {
    const link = (await fromReplica.info("replication")).includes("master_link_status:up");
    if (link && /slave0:.*state=online/.test(await fromPrimary.info("replication"))) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("the replica never synced");
}

test("waitReplicas: 1 — appends resolve once the replica has them; with the replica down they reject, and the lease is done", async () => {
  const primary = await start();
  const replica = await start({ replicaof: { host: "127.0.0.1", port: primary.port } });
  await inSync(primary, replica);
  const driver = open(primary, { durability: { waitReplicas: 1, waitTimeoutMs: 1000 } });
  expect(await driver.durabilityChecked).toBe("ok");

  const lease = await driver.acquire("w");
  const history = new History();
  await driver.create(metaOf("w"), { update: history.push("c") }, lease);
  await Promise.all(Array.from({ length: 20 }, (_, i) => driver.append("w", { update: history.push(i) }, lease)));
  // WAIT returned: the replica holds every acknowledged commit already.
  expect(await client(replica).llen(driver.keys.log("w"))).toBe(21);

  await replica.kill();
  const started = Date.now();
  const refused = await driver.append("w", { update: history.push("unconfirmed") }, lease).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(StorageUnavailable);
  expect((refused as Error).message).toMatch(/only 0 of 1 replicas acknowledged/);
  expect(Date.now() - started).toBeLessThan(10_000); // bounded: WAIT's timeout, not forever
  await expect(driver.append("w", { update: history.push("later") }, lease)).rejects.toThrow(/earlier write/);
  // No token is handed out that the replica does not have (a failover could hand it out again).
  await expect(driver.acquire("w2")).rejects.toThrow(/acquire: only 0 of 1 replicas/);

  // Back with a replica: a new lease writes again.
  await replica.restart();
  await inSync(primary, replica);
  const next = await driver.acquire("w");
  await driver.append("w", { update: history.push("confirmed") }, next);
  expect(await client(replica).llen(driver.keys.log("w"))).toBe(23); // 21, the unconfirmed one (applied on the primary), this one
});

test("startup check: a warning without AOF always and without waitReplicas", async () => {
  const server = await start({ appendonly: false });
  const driver = open(server);
  expect(await driver.durabilityChecked).toBe("warned");
  expect(driver.warnings.join("\n")).toMatch(/not configured for durable writes/);

  const everysec = await start({ appendonly: true, appendfsync: "everysec" });
  const lax = open(everysec);
  expect(await lax.durabilityChecked).toBe("warned");
});

test("startup check: silent under AOF appendfsync always, or with waitReplicas", async () => {
  const server = await start({ appendonly: true, appendfsync: "always" });
  const driver = open(server);
  expect(await driver.durabilityChecked).toBe("ok");
  expect(driver.warnings).toEqual([]);
  const plain = await start();
  const waiting = open(plain, { durability: { waitReplicas: 1 } });
  expect(await waiting.durabilityChecked).toBe("ok");
  expect(waiting.warnings).toEqual([]);
});

test("startup check: CONFIG disabled by the provider — a warning that it cannot check", async () => {
  const server = await start({ extra: ["--rename-command", "CONFIG", ""] });
  const driver = open(server);
  expect(await driver.durabilityChecked).toBe("unknown");
  expect(driver.warnings.join("\n")).toMatch(/cannot check/);
  // The driver works all the same.
  const lease = await driver.acquire("x");
  await driver.create(metaOf("x"), {}, lease);
});

test("a replica outage holds the data connection in WAIT, but lease renewals go on (control connection)", async () => {
  const primary = await start();
  const replica = await start({ replicaof: { host: "127.0.0.1", port: primary.port } });
  await inSync(primary, replica);
  // WAIT holds the data connection for 3 s, three lease times: renewals queued behind it would come too late.
  const driver = open(primary, { leaseMs: 1000, durability: { waitReplicas: 1, waitTimeoutMs: 3000 } });
  const other = open(primary, { leaseMs: 1000, nodeId: "other" });
  const lease = await driver.acquire("r");
  await driver.create(metaOf("r"), { update: new History().push(0) }, lease);
  // The first WAITs after a replica synced can take most of a second: start from a fresh lease time.
  expect(await driver.ownership.renew([lease])).toEqual([]);
  await replica.kill();
  const history = new History();
  let settled = false;
  const pending = Promise.allSettled(Array.from({ length: 10 }, (_, i) => driver.append("r", { update: history.push(i) }, lease))).finally(() => (settled = true));
  // Renewing every 200 ms, for longer than the lease, while the appends wait for the missing replica.
  for (let round = 0; round < 10; round++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await driver.ownership.renew([lease])).toEqual([]);
    await expect(other.acquire("r")).rejects.toMatchObject({ name: "HeldElsewhere" });
  }
  expect(settled).toBe(false); // the renewals above ran while WAIT still held the data connection
  const outcomes = await pending;
  expect(outcomes.every((outcome) => outcome.status === "rejected")).toBe(true);
});

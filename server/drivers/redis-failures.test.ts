/**
 * The Redis driver when Redis fails: killed mid-append, paused, gone, back again. Every call
 * rejects in bounded time with StorageUnavailable (no offline queue, no silent resend); a
 * lease whose write had an unknown outcome never writes again, so no log has a gap; a new
 * lease works once Redis is back.
 */
import { afterEach, expect, test } from "vitest";
import { StorageUnavailable } from "../../shared/errors.ts";
import { History, items, metaOf, replay } from "../../tests/support/driver-conformance.ts";
import { RedisServer } from "../../tests/support/redis-server.ts";
import { type RedisDriver, type RedisDriverOptions, redisDriver } from "./redis.ts";

const quiet = { warn() {} };
const servers: RedisServer[] = [];
const drivers: RedisDriver[] = [];

afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.close();
  for (const server of servers.splice(0)) await server.stop();
});

async function start(options: Parameters<typeof RedisServer.start>[0] = {}): Promise<RedisServer> {
  const server = await RedisServer.start(options);
  servers.push(server);
  return server;
}

function open(server: RedisServer, options: Partial<RedisDriverOptions> = {}): RedisDriver {
  const driver = redisDriver({ url: server.url, nodeId: "n1", log: quiet, commandTimeoutMs: 1000, connectWaitMs: 500, ...options });
  drivers.push(driver);
  return driver;
}

/** How long `promise` takes to settle, and how: bounded by the test's own timeout. */
async function settle<T>(promise: Promise<T>): Promise<{ ms: number; error: unknown; value?: T }> {
  const started = Date.now();
  try {
    const value = await promise;
    return { ms: Date.now() - started, error: null, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

test("Redis killed mid-append: the appends in flight reject, later writes of that lease are refused even once Redis is back, and the log has no gap", async () => {
  const server = await start({ appendonly: true, appendfsync: "always" });
  const driver = open(server);
  const lease = await driver.acquire("doc");
  const history = new History();
  await driver.create(metaOf("doc"), { update: history.push("created") }, lease);

  // Appends sent back to back (pipelined) with a payload, and SIGKILL to Redis in the middle,
  // without waiting: some are applied, some are in flight, some are written to a dying socket.
  const writes: Promise<void>[] = [];
  const padding = "x".repeat(4000);
  for (let batch = 0; batch < 40; batch++) {
    for (let i = 0; i < 50; i++) {
      const write = driver.append("doc", { update: history.push(batch * 50 + i), privateState: padding }, lease);
      write.catch(() => undefined); // read below, all at once
      writes.push(write);
    }
    if (batch === 20) void server.kill();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const outcomes = await Promise.allSettled(writes);
  const firstFailure = outcomes.findIndex((outcome) => outcome.status === "rejected");
  expect(firstFailure).toBeGreaterThan(0);
  // Nothing after the first failure succeeded: no acknowledged write after a possible gap.
  expect(outcomes.slice(firstFailure).every((outcome) => outcome.status === "rejected")).toBe(true);
  for (const outcome of outcomes.slice(firstFailure)) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(StorageUnavailable);

  await server.restart();
  // The lease is broken for good (its writes' fate was unknown), even though Redis is back.
  const refused = await settle(driver.append("doc", { update: new History().push("late") }, lease));
  expect(refused.error).toBeInstanceOf(StorageUnavailable);
  expect(String((refused.error as Error).message)).toMatch(/earlier write/);

  // A new lease loads what Redis kept: every acknowledged append, then possibly some unacknowledged ones, in order, no gap.
  let next;
  for (let i = 0; i < 50 && next === undefined; i++) {
    next = await driver.acquire("doc").catch(() => new Promise<undefined>((resolve) => setTimeout(resolve, 50)));
  }
  expect(next).toBeDefined();
  const loaded = items(replay((await driver.load("doc", next!))!));
  expect(loaded[0]).toBe("created");
  const tail = loaded.slice(1);
  expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => i));
  expect(tail.length).toBeGreaterThanOrEqual(firstFailure);
  // And it writes again.
  await driver.append("doc", { update: new History().push("after") }, next!);
});

test("Redis paused (SIGSTOP): a write rejects after commandTimeoutMs instead of hanging; the driver works again once Redis resumes", async () => {
  const server = await start();
  const driver = open(server, { commandTimeoutMs: 300 });
  const lease = await driver.acquire("p");
  await driver.create(metaOf("p"), { update: new History().push(1) }, lease);
  server.pause();
  try {
    const outcome = await settle(driver.append("p", { update: new History().push(2) }, lease));
    expect(outcome.error).toBeInstanceOf(StorageUnavailable);
    expect(outcome.ms).toBeLessThan(5000);
    const read = await settle(driver.meta("p"));
    expect(read.error).toBeInstanceOf(StorageUnavailable);
  } finally {
    server.resume();
  }
  // Its lease stays broken (the write may have applied); a new lease writes.
  await expect(driver.append("p", { update: new History().push(3) }, lease)).rejects.toBeInstanceOf(StorageUnavailable);
  const next = await driver.acquire("p");
  await driver.append("p", { update: new History().push(4) }, next);
  expect((await driver.load("p", next))!.commitsSinceSnapshot).toBeGreaterThanOrEqual(2);
});

test("Redis down: every kind of call rejects within connectWaitMs; Redis back: the driver recovers by itself", async () => {
  const server = await start({ appendonly: true });
  const driver = open(server, { connectWaitMs: 300 });
  const lease = await driver.acquire("d");
  await driver.create(metaOf("d"), { update: new History().push("kept") }, lease);
  await server.kill();
  const calls: Promise<unknown>[] = [
    driver.acquire("d"),
    driver.meta("d"),
    driver.load("d", lease),
    driver.append("d", { update: new History().push(1) }, lease),
    driver.alarms(),
    driver.ownership.owner("d"),
    driver.ownership.renew([lease]),
    driver.ownership.dueAlarms(Date.now()),
    driver.ownership.secret(),
  ];
  for (const outcome of await Promise.all(calls.map(settle))) {
    expect(outcome.error).toBeInstanceOf(StorageUnavailable);
    expect(outcome.ms).toBeLessThan(5000);
  }
  await driver.release(lease); // resolves: the lease expires by itself
  await server.restart();
  let meta = null;
  for (let i = 0; i < 100 && meta === null; i++) {
    meta = await driver.meta("d").catch(() => new Promise<null>((resolve) => setTimeout(() => resolve(null), 50)));
  }
  expect(meta).toEqual(metaOf("d"));
});

test("close() while disconnected resolves, and later calls reject", async () => {
  const server = await start();
  const driver = open(server, { connectWaitMs: 200 });
  await driver.meta("x");
  await server.kill();
  await driver.close();
  await expect(driver.meta("x")).rejects.toBeInstanceOf(StorageUnavailable);
});

test("Redis never reachable: calls reject within connectWaitMs with StorageUnavailable", async () => {
  const driver = redisDriver({ url: "redis://127.0.0.1:1", log: quiet, connectWaitMs: 300 });
  drivers.push(driver);
  const outcome = await settle(driver.acquire("x"));
  expect(outcome.error).toBeInstanceOf(StorageUnavailable);
  expect((outcome.error as Error).message).toMatch(/no connection to Redis within 300 ms/);
  expect(outcome.ms).toBeLessThan(3000);
  expect(await driver.durabilityChecked).toBe("unknown");
});

test("Redis paused: a renewal fails within half a lease time, well before the data connection's command timeout", async () => {
  const server = await start();
  const driver = open(server, { leaseMs: 1000, commandTimeoutMs: 20_000 });
  const lease = await driver.acquire("r");
  server.pause();
  try {
    const outcome = await settle(driver.ownership.renew([lease]));
    expect(outcome.error).toBeInstanceOf(StorageUnavailable);
    expect(outcome.ms).toBeLessThan(10_000); // 500 ms by the rule; 20 s with the data connection's timeout
  } finally {
    server.resume();
  }
});

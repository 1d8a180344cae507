/**
 * kill -9 on a real Redis deployment under AOF appendfsync always: the owner process killed
 * mid-stream of pipelined appends, or Redis itself killed mid-stream and restarted. Either
 * way every acknowledged append is in the log, in order, once, and the log is a gap-free
 * prefix of what was sent; a new node takes the actor over once the lease has expired.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";
import { items, replay } from "../../tests/support/driver-conformance.ts";
import { childLines } from "../../tests/support/child-lines.ts";
import { RedisServer } from "../../tests/support/redis-server.ts";
import type { Lease } from "./driver.ts";
import { type RedisDriver, redisDriver } from "./redis.ts";

const CHILD = fileURLToPath(new URL("./redis-owner.child.ts", import.meta.url));
const LEASE_MS = 400;
const PREFIX = "crash:";
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function owner(server: RedisServer): { child: ChildProcess; lines: ReturnType<typeof childLines> } {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, server.url, PREFIX, String(LEASE_MS)], { stdio: ["pipe", "pipe", "inherit"] });
  cleanups.push(() => void child.kill("SIGKILL"));
  return { child, lines: childLines(child) };
}

function successor(server: RedisServer): RedisDriver {
  const driver = redisDriver({ url: server.url, keyPrefix: PREFIX, nodeId: "successor", leaseMs: LEASE_MS, log: { warn() {} } });
  cleanups.push(() => driver.close());
  return driver;
}

/** Acquires once the dead owner's lease expired and Redis answers (bounded). */
async function takeOver(driver: RedisDriver): Promise<Lease> {
  for (let i = 0; i < 200; i++) {
    const lease = await driver.acquire("fenced").catch(() => null);
    if (lease !== null) return lease;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("never took the actor over");
}

function acked(seen: readonly string[]): number[] {
  return seen.filter((line) => line.startsWith("ack ")).map((line) => Number(line.slice(4)));
}

/** The loaded log is "created", 0, 1, …, k with every acknowledged item in it. */
function expectPrefixWithAll(loaded: unknown[], acknowledged: number[]): void {
  expect(loaded[0]).toBe("created");
  const tail = loaded.slice(1);
  expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => String(i)));
  expect(tail.length).toBeGreaterThan(Math.max(...acknowledged));
}

/** A Redis under AOF always and an owner process streaming appends to it, 300 of them acknowledged. */
async function streamingOwner() {
  const server = await RedisServer.start({ appendonly: true, appendfsync: "always" });
  cleanups.push(() => server.stop());
  const { child, lines } = owner(server);
  await lines.next(/^ready /, 30_000);
  child.stdin!.write("stream 1000000\n");
  await lines.next(/^ack 300$/);
  return { server, child, lines };
}

test("the owner killed (SIGKILL) mid-stream: every acknowledged append survives, in order, no gap; another node takes over after the lease", async () => {
  const { server, child, lines } = await streamingOwner();
  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  const acknowledged = acked(lines.seen);

  const driver = successor(server);
  const lease = await takeOver(driver);
  expectPrefixWithAll(items(replay((await driver.load("fenced", lease))!)), acknowledged);
  const tokens = await driver.commitTokens("fenced");
  expect(new Set(tokens).size).toBe(1); // all by the one owner
  expect(tokens[0]).toBeLessThan(lease.token);
});

test("Redis killed (SIGKILL) mid-stream under AOF appendfsync always and restarted: every acknowledged append is there", async () => {
  const { server, child, lines } = await streamingOwner();
  await server.kill();
  await lines.next(/^refused /); // the owner saw its stream fail
  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  const acknowledged = acked(lines.seen);
  await server.restart();

  const driver = successor(server);
  const lease = await takeOver(driver);
  expectPrefixWithAll(items(replay((await driver.load("fenced", lease))!)), acknowledged);
});

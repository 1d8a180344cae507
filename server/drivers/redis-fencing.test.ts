/**
 * Fencing across processes: an owner paused with SIGSTOP past its lease, while another node
 * takes the actor over, resumes and writes — and Redis refuses the write (the refusal
 * counter in Redis moves; the log shows no record of the old token after the new one).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterEach, expect, test } from "vitest";
import { History, items, replay } from "../../tests/support/driver-conformance.ts";
import { childLines } from "../../tests/support/child-lines.ts";
import { RedisServer } from "../../tests/support/redis-server.ts";
import { HeldElsewhere, type Lease } from "./driver.ts";
import { type RedisDriver, redisDriver } from "./redis.ts";

const CHILD = fileURLToPath(new URL("./redis-owner.child.ts", import.meta.url));
const LEASE_MS = 400;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test("an owner paused (SIGSTOP) past its lease resumes and writes: Redis refuses it, the successor's log is intact", async () => {
  const server = await RedisServer.start();
  cleanups.push(() => server.stop());
  const prefix = "fence:";
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, server.url, prefix, String(LEASE_MS)], { stdio: ["pipe", "pipe", "inherit"] });
  cleanups.push(() => {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
  });
  const { next } = childLines(child);
  const tokenA = Number((await next(/^ready /, 30_000)).split(" ")[1]);
  child.stdin!.write("append a1\n");
  await next(/^ok a1$/);

  const admin = new Redis(server.url);
  cleanups.push(() => void admin.disconnect());
  const successor: RedisDriver = redisDriver({ url: server.url, keyPrefix: prefix, nodeId: "successor", leaseMs: LEASE_MS, log: { warn() {} } });
  cleanups.push(() => successor.close());

  // While the owner runs, its renewals keep the actor.
  await expect(successor.acquire("fenced")).rejects.toBeInstanceOf(HeldElsewhere);

  child.kill("SIGSTOP");
  let leaseB: Lease | undefined;
  for (let i = 0; i < 100 && leaseB === undefined; i++) {
    leaseB = await successor.acquire("fenced").catch(() => new Promise<undefined>((resolve) => setTimeout(resolve, LEASE_MS / 10)));
  }
  expect(leaseB!.token).toBeGreaterThan(tokenA);
  const stored = (await successor.load("fenced", leaseB!))!;
  expect(items(replay(stored))).toEqual(["created", "a1"]);
  await successor.append("fenced", { update: new History().push("b1") }, leaseB!);

  const refusalsBefore = Number((await admin.get(`${prefix}refusals`)) ?? 0);
  child.stdin!.write("append late\n"); // read by the child the moment it resumes
  child.kill("SIGCONT");
  expect(await next(/^refused late /)).toBe("refused late stale_lease");
  expect(Number(await admin.get(`${prefix}refusals`))).toBe(refusalsBefore + 1);
  await next(/^lost$/);

  const tokens = await successor.commitTokens("fenced");
  expect(tokens).toEqual([tokenA, tokenA, leaseB!.token]);
  // The refused write is nowhere (b1 comes from another Y.Doc, so only the set of items is fixed).
  expect(items(replay((await successor.load("fenced", leaseB!))!)).sort()).toEqual(["a1", "b1", "created"]);
  child.stdin!.end();
});

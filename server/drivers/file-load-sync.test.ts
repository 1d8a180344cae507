/**
 * The file driver's load does not wait for its fsyncs (the new fencing token in the lease
 * file, the directory after recovery): they run while the actor is read, and every write
 * waits for them — so nothing is acknowledged before they are durable, and a failed one
 * fails the writes instead of being lost. Gates around those two fsyncs hold them open.
 */
import { statSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { History, items, metaOf, replay } from "../../tests/support/driver-conformance.ts";
import type { Lease } from "./driver.ts";
import { type FileDriver, fileDriver } from "./file.ts";

const gates = vi.hoisted(() => ({
  /** Called before the directory fsync of `path` and the lease write of `dir`; may hold or fail them. */
  syncDir: undefined as ((path: string) => Promise<void>) | undefined,
  lease: undefined as ((dir: string) => Promise<void>) | undefined,
}));

vi.mock("./file/fs-util.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./file/fs-util.ts")>();
  return {
    ...actual,
    syncDir: async (path: string, stats: { fsyncs: number }) => {
      await gates.syncDir?.(path);
      return actual.syncDir(path, stats);
    },
  };
});

vi.mock("./file/lease-file.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./file/lease-file.ts")>();
  return {
    ...actual,
    writeLeaseToken: async (dir: string, token: number, stats: { fsyncs: number }) => {
      await gates.lease?.(dir);
      return actual.writeLeaseToken(dir, token, stats);
    },
  };
});

/** A gate that holds whoever reaches it until `open()` or `fail()`. */
function gate() {
  let reached = 0;
  let release!: () => void;
  let refuse!: (error: Error) => void;
  const opened = new Promise<void>((resolve, reject) => {
    release = resolve;
    refuse = reject;
  });
  opened.catch(() => undefined);
  return {
    get reached() {
      return reached;
    },
    wait: () => {
      reached++;
      return opened;
    },
    open: () => release(),
    fail: (error: Error) => refuse(error),
  };
}

const settled = async <T>(promise: Promise<T>) => {
  let state: "pending" | "resolved" | "rejected" = "pending";
  promise.then(
    () => (state = "resolved"),
    () => (state = "rejected"),
  );
  // Long enough for a write that did not wait to reach the file (several fs round trips).
  await new Promise((resolve) => setTimeout(resolve, 100));
  return state;
};

/** Holds the directory fsync or the lease write of actor `id` at a new gate. */
function hold(kind: "syncDir" | "lease", id: string) {
  const held = gate();
  gates[kind] = (path) => (path === actorDir(id) ? held.wait() : Promise.resolve());
  return held;
}

/** An append that must wait at `held`: pending until the gate opens, then done. */
async function appendThrough(held: ReturnType<typeof gate>, driver: FileDriver, id: string, lease: Lease, update: Uint8Array): Promise<void> {
  const append = driver.append(id, { update }, lease);
  expect(await settled(append)).toBe("pending");
  held.open();
  await append;
}

/** After a failed write: a new lease and a load, and the same update is accepted this time. */
async function retryAfterReload(driver: FileDriver, id: string, update: Uint8Array): Promise<Lease> {
  const next = await driver.acquire(id);
  expect(items(replay((await driver.load(id, next))!))).toEqual(["created", 0]);
  await driver.append(id, { update }, next);
  expect(items(replay((await driver.load(id, next))!))).toEqual(["created", 0, 1]);
  return next;
}

let dir: string;
const drivers: FileDriver[] = [];

function open(): FileDriver {
  const driver = fileDriver({ dir, log: { warn() {} } });
  drivers.push(driver);
  return driver;
}

const actorDir = (id: string) => join(dir, "actors", Buffer.from(id).toString("hex"));

/** An actor with two commits, written by a driver that is closed again. */
async function seed(id: string): Promise<History> {
  const driver = open();
  const lease = await driver.acquire(id);
  const history = new History();
  await driver.create(metaOf(id), { update: history.push("created") }, lease);
  await driver.append(id, { update: history.push(0) }, lease);
  await driver.close();
  return history;
}

/** A seeded actor "id", reopened with `kind` held, and acquired. */
async function setUp(kind: "syncDir" | "lease", id: string) {
  const history = await seed(id);
  const held = hold(kind, id);
  const driver = open();
  const lease = await driver.acquire(id);
  return { history, held, driver, lease };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tandem-file-load-sync-"));
});

afterEach(async () => {
  gates.syncDir = undefined;
  gates.lease = undefined;
  for (const driver of drivers.splice(0)) await driver.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe("file driver: fsyncs of a load run while it reads, and writes wait for them", () => {
  test("the directory fsync: the load returns without it, an append is written only after it", async () => {
    const { history, held, driver, lease } = await setUp("syncDir", "a");
    const stored = (await driver.load("a", lease))!;
    expect(items(replay(stored))).toEqual(["created", 0]);
    expect(held.reached).toBe(1);

    const log = join(actorDir("a"), "log.0");
    const { size } = await stat(log);
    const sizes: number[] = [];
    held.wait().then(() => sizes.push(statSync(log).size)); // as the gate opens
    await appendThrough(held, driver, "a", lease, history.push(1));
    expect(sizes).toEqual([size]); // nothing was written before the fsync
    expect(items(replay((await driver.load("a", lease))!))).toEqual(["created", 0, 1]);
  });

  test("a failed directory fsync fails the writes after the load; a reload starts over", async () => {
    const { history, held, driver, lease } = await setUp("syncDir", "b");
    await driver.load("b", lease);
    held.fail(new Error("EIO: directory fsync"));
    const update = history.push(1);
    await expect(driver.append("b", { update }, lease)).rejects.toThrow("EIO: directory fsync");
    await expect(driver.compact("b", { doc: new Uint8Array([0, 0]), privateState: undefined, seqs: [], schedules: [], alarm: null }, lease)).rejects.toThrow(
      "EIO: directory fsync",
    );

    gates.syncDir = undefined;
    await retryAfterReload(driver, "b", update);
  });

  test("the new token: acquire and load return before it is durable, writes and release wait for it", async () => {
    const { history, held, driver, lease } = await setUp("lease", "c");
    expect(items(replay((await driver.load("c", lease))!))).toEqual(["created", 0]);
    await expect.poll(() => held.reached).toBe(1);

    await appendThrough(held, driver, "c", lease, history.push(1));
    await driver.release(lease);
    await driver.close();

    gates.lease = undefined;
    const reopened = open();
    const next = await reopened.acquire("c");
    expect(next.token).toBeGreaterThan(lease.token); // it reached the disk
    expect(items(replay((await reopened.load("c", next))!))).toEqual(["created", 0, 1]);
  });

  test("a token that could not be written fails the writes, and stays in memory so the next one outranks it", async () => {
    const { history, held, driver, lease } = await setUp("lease", "d");
    held.fail(new Error("ENOSPC: lease"));
    const update = history.push(1);
    await expect(driver.append("d", { update }, lease)).rejects.toThrow("ENOSPC: lease");
    await driver.release(lease);

    gates.lease = undefined;
    const next = await retryAfterReload(driver, "d", update);
    expect(next.token).toBeGreaterThan(lease.token);
  });
});

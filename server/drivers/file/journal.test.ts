/**
 * The shared journal (journal.ts): what an fsync of the journal made durable survives the loss
 * of every log write that was never fsync'ed (a power cut; kill -9 keeps the page cache, so the
 * crash tests cannot show this), and checkpoints move frames into the logs and retire journals.
 */
import { cp, mkdtemp, readdir, rm, stat, truncate, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import type { ActorMeta, Commit, Driver } from "../driver.ts";
import { fileDriver } from "../file.ts";
import { FILE_HEADER_SIZE } from "./format.ts";
import { hexId } from "./store.ts";

const quiet = { warn() {} };
const dirs: string[] = [];
const drivers: Driver[] = [];

afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-journal-"));
  dirs.push(dir);
  return dir;
}

function open(dir: string, journalCheckpointBytes?: number) {
  const driver = fileDriver({ dir, log: quiet, testHooks: journalCheckpointBytes === undefined ? undefined : { journalCheckpointBytes } });
  drivers.push(driver);
  return driver;
}

const meta = (id: string): ActorMeta => ({ id, name: "t", key: [id], createdAt: 1 });
const commit = (n: number): Commit => ({ privateState: n, seqs: [{ clientId: `c\u0000${n % 128}`, seq: n, result: { ok: true, value: n } }] });

async function journals(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith("journal."));
}

test("journaled appends survive logs that lost every write since their last fsync", async () => {
  const dir = await tempDir();
  const driver = open(dir);
  const ids = ["a", "b", "c"];
  const leases = await Promise.all(ids.map((id) => driver.acquire(id)));
  await Promise.all(ids.map((id, i) => driver.create(meta(id), commit(0), leases[i]!)));
  const sizes = await Promise.all(ids.map((id) => stat(join(dir, "actors", hexId(id), "log.0")).then((s) => s.size)));
  // Appends of three actors at once: durable through the journal, not through their logs.
  for (let n = 1; n <= 5; n++) await Promise.all(ids.map((id, i) => driver.append(id, commit(n), leases[i]!)));

  // A copy of the directory as a power cut could leave it: the logs as of their last fsync.
  const copy = await tempDir();
  await cp(dir, copy, { recursive: true });
  await unlink(join(copy, "LOCK"));
  expect(await journals(copy)).toHaveLength(1);
  for (const [i, id] of ids.entries()) await truncate(join(copy, "actors", hexId(id), "log.0"), sizes[i]!);

  const recovered = open(copy);
  for (const id of ids) {
    const stored = await recovered.load(id, await recovered.acquire(id));
    expect(stored?.privateState).toBe(5);
    expect(stored?.commitsSinceSnapshot).toBe(6);
    expect([...stored!.seqs.values()].map((record) => record.seq).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  }
  // Replayed into the logs and fsync'ed: the old journal is gone, a new one is open.
  expect(await journals(copy)).toHaveLength(1);
});

test("a checkpoint fsyncs the logs and retires the journal; a clean close leaves none", async () => {
  const dir = await tempDir();
  const driver = open(dir, 2_000);
  const ids = ["a", "b"];
  const leases = await Promise.all(ids.map((id) => driver.acquire(id)));
  await Promise.all(ids.map((id, i) => driver.create(meta(id), commit(0), leases[i]!)));
  for (let n = 1; n <= 200; n++) await Promise.all(ids.map((id, i) => driver.append(id, commit(n), leases[i]!)));
  await new Promise((resolve) => setTimeout(resolve, 50)); // the last checkpoint finishes
  const left = await journals(dir);
  expect(left.length).toBeLessThanOrEqual(2);
  expect(Math.max(...left.map((name) => Number(name.split(".")[1])))).toBeGreaterThan(5); // rotated many times

  // What the retired journals held is in the logs themselves now.
  const copy = await tempDir();
  await cp(dir, copy, { recursive: true });
  await unlink(join(copy, "LOCK"));
  for (const name of await journals(copy)) await unlink(join(copy, name));
  const recovered = open(copy);
  for (const id of ids) {
    const stored = await recovered.load(id, await recovered.acquire(id));
    // Only the frames of the journals just deleted may be missing.
    expect(stored!.privateState as number).toBeGreaterThan(150);
  }

  await driver.close();
  expect(await journals(dir)).toEqual([]);
  const again = open(dir);
  for (const id of ids) expect((await again.load(id, await again.acquire(id)))?.privateState).toBe(200);
});

test("a journal cut short by a crash drops only its torn tail", async () => {
  const dir = await tempDir();
  const driver = open(dir);
  const lease = await driver.acquire("a");
  await driver.create(meta("a"), commit(0), lease);
  const logSize = (await stat(join(dir, "actors", hexId("a"), "log.0"))).size;
  for (let n = 1; n <= 3; n++) await driver.append("a", commit(n), lease);
  const copy = await tempDir();
  await cp(dir, copy, { recursive: true });
  await unlink(join(copy, "LOCK"));
  const [journal] = await journals(copy);
  const journalSize = (await stat(join(copy, journal!))).size;
  expect(journalSize).toBeGreaterThan(FILE_HEADER_SIZE);
  await truncate(join(copy, journal!), journalSize - 3); // the last journal write torn
  await truncate(join(copy, "actors", hexId("a"), "log.0"), logSize); // and the log never synced
  const recovered = open(copy);
  const stored = await recovered.load("a", await recovered.acquire("a"));
  expect(stored?.privateState).toBe(2);
});

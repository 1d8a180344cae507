/**
 * The file driver's costs on this machine (tsx bench/file-driver.ts). One JSON line per
 * measurement:
 *   - fsync: the raw cost of appending a few bytes and fdatasync'ing them (the floor of every
 *     acknowledged write);
 *   - cold-load: an actor with 100,000 small updates (one character typed each), loaded by a
 *     fresh driver, applied to a Y.Doc, and loaded through a server — before and after
 *     compaction — with the bytes on disk per update;
 *   - driver-appends: appends per second straight to the driver, 1 and 50 concurrent writers
 *     of one actor — group commit at work. Through the server an actor's next task waits
 *     for the previous commit's fsync, so there only different actors overlap;
 *   - throughput: acknowledged actions per second through the inline client of createServer,
 *     with fsync, for 1 client, 50 clients of one actor, and 50 clients of 50 actors (and the
 *     memory driver as the no-storage reference).
 * BENCH_UPDATES and BENCH_SECONDS shrink the run for a quick look.
 */
import { mkdtemp, open, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { actor, setup } from "../shared/index.ts";
import { stateRoot } from "../shared/state/index.ts";
import { createServer } from "../server/create-server.ts";
import type { Driver } from "../server/drivers/driver.ts";
import { fileDriver } from "../server/drivers/file.ts";
import { memoryDriver } from "../server/drivers/memory.ts";
import { actorId } from "../server/runtime/actor-id.ts";
import { tandemYjs } from "./lib/modules.ts";

// The repo's yjs, the copy the library uses (bench/node_modules holds the anchors' copy).
const Y = await tandemYjs();

const UPDATES = Number(process.env.BENCH_UPDATES ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const quiet = { warn() {} };

function print(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function dirBytes(path: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(path)) total += (await stat(join(path, name))).size;
  return total;
}

// ---------------------------------------------------------------------------------------

async function rawFsync(root: string): Promise<void> {
  const handle = await open(join(root, "fsync-probe"), "w");
  const bytes = new Uint8Array(64).fill(1);
  const times: number[] = [];
  for (let i = 0; i < 500; i++) {
    const start = performance.now();
    await handle.write(bytes, 0, bytes.length, i * 64);
    await handle.datasync();
    times.push((performance.now() - start) * 1000);
  }
  await handle.close();
  times.sort((a, b) => a - b);
  const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
  print({ bench: "fsync", op: "write 64 B + fdatasync", n: times.length, meanUs: round(mean, 0), p50Us: round(percentile(times, 0.5), 0), p99Us: round(percentile(times, 0.99), 0) });
}

// ---------------------------------------------------------------------------------------

const docActor = actor({
  state: {},
  actions: {
    ping: () => 1,
  },
});

async function coldLoad(root: string): Promise<void> {
  const dir = join(root, "cold");
  const registry = setup({ use: { doc: docActor } });
  const id = actorId("doc", ["big"]);

  // 100,000 updates of one typed character each, as an editor produces them.
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on("update", (update: Uint8Array) => updates.push(update));
  const text = new Y.Text();
  stateRoot(doc).set("text", text);
  const first = updates.pop()!;
  for (let i = 0; i < UPDATES; i++) text.insert(text.length, String.fromCharCode(97 + (i % 26)));
  const updateBytes = updates.reduce((sum, u) => sum + u.length, 0);

  const writer = fileDriver({ dir, log: quiet });
  const lease = await writer.acquire(id);
  await writer.create({ id, name: "doc", key: ["big"], createdAt: Date.now() }, { update: first }, lease);
  // One frame per update, as the runtime writes them, for the first 2,000…
  const files = join(dir, "actors", Buffer.from(id).toString("hex"));
  const before = await dirBytes(files);
  for (let i = 0; i < 2000; i++) await writer.append(id, { update: updates[i]! }, lease);
  const oneFrameEach = (await dirBytes(files)) - before;
  // …the rest in concurrent waves (group commit), to build the log in seconds.
  const start = performance.now();
  for (let i = 2000; i < updates.length; i += 1000) {
    await Promise.all(updates.slice(i, i + 1000).map((update) => writer.append(id, { update }, lease)));
  }
  const writeMs = performance.now() - start;
  await writer.close();
  const logBytes = await dirBytes(files);
  print({
    bench: "bytes-per-update",
    updates: UPDATES,
    yjsUpdateBytes: round(updateBytes / updates.length, 1),
    onDiskOneFrameEach: round(oneFrameEach / 2000, 1),
    onDiskAll: round(logBytes / UPDATES, 1),
    logBytes,
    groupCommitWritesPerSec: round((updates.length - 2000) / (writeMs / 1000), 0),
  });

  const measure = async (phase: string) => {
    const driver = fileDriver({ dir, log: quiet });
    let start = performance.now();
    const lease = await driver.acquire(id);
    const stored = (await driver.load(id, lease))!;
    const driverLoadMs = performance.now() - start;
    start = performance.now();
    const loaded = new Y.Doc();
    Y.transact(loaded, () => {
      for (const update of stored.updates) Y.applyUpdate(loaded, update);
    });
    const applyMs = performance.now() - start;
    if ((stateRoot(loaded).get("text") as InstanceType<typeof Y.Text>).length !== UPDATES) throw new Error("the loaded document is incomplete");
    await driver.release(lease);
    await driver.close();

    const server = createServer(registry, { driver: fileDriver({ dir, log: quiet }), logger: false });
    start = performance.now();
    await server.client.doc.get("big").ping();
    const serverFirstCallMs = performance.now() - start;
    await server.close();
    print({
      bench: "cold-load",
      phase,
      updates: UPDATES,
      storedUpdates: stored.updates.length,
      bytesOnDisk: await dirBytes(files),
      driverLoadMs: round(driverLoadMs),
      applyMs: round(applyMs),
      serverFirstCallMs: round(serverFirstCallMs),
    });
    return Y.encodeStateAsUpdate(loaded);
  };

  const state = await measure("before-compaction");
  const compactor = fileDriver({ dir, log: quiet });
  const compactLease = await compactor.acquire(id);
  const compactStart = performance.now();
  await compactor.compact(id, { doc: state, privateState: undefined, seqs: [], schedules: [], alarm: null }, compactLease);
  print({ bench: "compact", updates: UPDATES, snapshotBytes: state.length, compactMs: round(performance.now() - compactStart) });
  await compactor.close();
  await measure("after-compaction");
}

// ---------------------------------------------------------------------------------------

const counter = actor({
  state: { n: 0 },
  actions: {
    add: (c) => {
      c.state.n++;
      return c.state.n;
    },
  },
});
const counters = setup({ use: { counter } });

async function throughput(kind: "file" | "memory", makeDriver: () => Driver, clients: number, actors: number): Promise<void> {
  const driver = makeDriver();
  const server = createServer(counters, { driver, logger: false, sleepAfterMs: 0 });
  const handles = Array.from({ length: actors }, (_, i) => server.client.counter.getOrCreate(`c${i}`));
  await Promise.all(handles.map((handle) => handle.add())); // loaded and created before timing
  const fsyncCount = () => ("stats" in driver ? (driver as ReturnType<typeof fileDriver>).stats.fsyncs : 0);
  // A warm-up third, then the measured run: every client loops until the deadline.
  let done = 0;
  let latencies: number[] = [];
  const loop = async (seconds: number) => {
    const deadline = performance.now() + seconds * 1000;
    done = 0;
    latencies = [];
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const handle = handles[c % actors]!;
        while (performance.now() < deadline) {
          const t = performance.now();
          await handle.add();
          latencies.push(performance.now() - t);
          done++;
        }
      }),
    );
  };
  await loop(SECONDS / 3);
  const fsyncsBefore = fsyncCount();
  const start = performance.now();
  await loop(SECONDS);
  const elapsed = (performance.now() - start) / 1000;
  const fsyncs = fsyncCount() - fsyncsBefore;
  await server.close();
  latencies.sort((a, b) => a - b);
  print({
    bench: "throughput",
    driver: kind,
    clients,
    actors,
    actionsPerSec: round(done / elapsed, 0),
    p50Ms: round(percentile(latencies, 0.5), 3),
    p99Ms: round(percentile(latencies, 0.99), 3),
    ...(kind === "file" ? { fsyncsPerAction: round(fsyncs / done, 3) } : {}),
  });
}

/** Appends straight to the driver: what group commit gives when writers do not wait on each other. */
async function driverAppends(root: string, writers: number): Promise<void> {
  const driver = fileDriver({ dir: join(root, `appends-${writers}`), log: quiet });
  const lease = await driver.acquire("a");
  await driver.create({ id: "a", name: "bench", key: ["a"], createdAt: Date.now() }, { update: new Uint8Array([0, 0]) }, lease);
  const update = new Uint8Array(24).fill(7);
  const run = async (seconds: number) => {
    const deadline = performance.now() + seconds * 1000;
    let done = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (performance.now() < deadline) {
          await driver.append("a", { update }, lease);
          done++;
        }
      }),
    );
    return done;
  };
  await run(SECONDS / 3);
  const before = driver.stats.fsyncs;
  const start = performance.now();
  const done = await run(SECONDS);
  const elapsed = (performance.now() - start) / 1000;
  print({ bench: "driver-appends", writers, actors: 1, appendsPerSec: round(done / elapsed, 0), fsyncsPerAppend: round((driver.stats.fsyncs - before) / done, 3) });
  await driver.close();
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "tandem-bench-file-"));
  try {
    await rawFsync(root);
    await coldLoad(root);
    await driverAppends(root, 1);
    await driverAppends(root, 50);
    let run = 0;
    const file = () => fileDriver({ dir: join(root, `throughput-${run++}`), log: quiet });
    for (const [clients, actors] of [
      [1, 1],
      [50, 1],
      [50, 50],
    ] as const) {
      await throughput("file", file, clients, actors);
      await throughput("memory", memoryDriver, clients, actors);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();

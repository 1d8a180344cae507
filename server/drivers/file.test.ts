import { spawn } from "node:child_process";
import { appendFile, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup } from "../../shared/index.ts";
import { ActorStopped, InvalidArguments, StaleLease, StorageCorrupt } from "../../shared/errors.ts";
import { createServer } from "../create-server.ts";
import { actorId } from "../runtime/actor-id.ts";
import { History, driverConformance, items, metaOf, replay } from "../../tests/support/driver-conformance.ts";
import type { Driver, Lease, Snapshot } from "./driver.ts";
import { type CompactionStep, type FileDriver, type FileDriverOptions, fileDriver } from "./file.ts";
import { FILE_HEADER_SIZE, FRAME_HEADER_SIZE, readU32 } from "./file/format.ts";

const quiet = { warn() {} };

driverConformance("file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tandem-file-conformance-"));
  const opened: Driver[] = [];
  const open = () => {
    const driver = fileDriver({ dir, log: quiet });
    opened.push(driver);
    return driver;
  };
  return {
    driver: open(),
    reopen: async () => open(),
    async cleanup() {
      for (const driver of opened) await driver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

// ---------------------------------------------------------------------------------------
// Helpers: a data directory per test, drivers that are all closed afterwards, and the files.

const dirs: string[] = [];
const drivers: Driver[] = [];

afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-file-"));
  dirs.push(dir);
  return dir;
}

interface Warning {
  readonly obj: Record<string, unknown>;
  readonly msg?: string;
}

function open(dir: string, options: Partial<FileDriverOptions> = {}): FileDriver & { warnings: Warning[] } {
  const warnings: Warning[] = [];
  const driver = fileDriver({ dir, log: { warn: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }) }, ...options });
  drivers.push(driver);
  return Object.assign(driver, { warnings });
}

function actorDir(dir: string, id: string): string {
  return join(dir, "actors", Buffer.from(id).toString("hex"));
}

function logFile(dir: string, id: string, gen = 0): string {
  return join(actorDir(dir, id), `log.${gen}`);
}

/** Start offsets of the frames of a log file. */
async function frameOffsets(path: string): Promise<number[]> {
  const bytes = new Uint8Array(await readFile(path));
  const out: number[] = [];
  for (let at = FILE_HEADER_SIZE; at < bytes.length; at += FRAME_HEADER_SIZE + readU32(bytes, at)) out.push(at);
  return out;
}

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = bytes[offset]! ^ 0x5a;
  await writeFile(path, bytes);
}

/** An actor with `appends` commits after its first, each pushing its index; awaited one by one. */
async function seed(driver: Driver, id: string, appends: number): Promise<{ lease: Lease; history: History }> {
  const lease = await driver.acquire(id);
  const history = new History();
  await driver.create(metaOf(id), { update: history.push("created"), privateState: 0 }, lease);
  for (let i = 0; i < appends; i++) await driver.append(id, { update: history.push(i), privateState: i + 1 }, lease);
  return { lease, history };
}

async function reload(dir: string, id: string, options: Partial<FileDriverOptions> = {}) {
  const driver = open(dir, options);
  const lease = await driver.acquire(id);
  return { driver, lease, load: () => driver.load(id, lease) };
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

// ---------------------------------------------------------------------------------------

describe("file driver: recovery of a damaged log", () => {
  test("a torn tail (a frame cut short) is dropped, reported, and cut off the file", async () => {
    const dir = await tempDir();
    const first = open(dir);
    await seed(first, "a", 3);
    await first.close();
    const path = logFile(dir, "a");
    const { size } = await stat(path);
    const last = (await frameOffsets(path)).at(-1)!;
    await truncate(path, size - 3);

    const { driver, lease, load } = await reload(dir, "a");
    const stored = (await load())!;
    expect(items(replay(stored))).toEqual(["created", 0, 1]);
    expect(stored.privateState).toBe(2);
    expect(driver.warnings).toHaveLength(1);
    expect(driver.warnings[0]!.obj).toMatchObject({ actorId: "a", offset: last, reason: expect.stringContaining("short frame") });
    expect((await stat(path)).size).toBe(last);
    expect(driver.stats.tornTails).toBe(1);

    // Later appends land after the last good frame, not behind garbage.
    await driver.append("a", { update: new History().push("x"), privateState: "after" }, lease);
    const again = await reload(dir, "a");
    expect((await again.load())!.privateState).toBe("after");
    expect(again.driver.warnings).toHaveLength(0);
  });

  test("zeros or a partial frame header past the last frame are dropped", async () => {
    const dir = await tempDir();
    const first = open(dir);
    await seed(first, "zeros", 2);
    await seed(first, "partial", 2);
    await first.close();
    await appendFile(logFile(dir, "zeros"), new Uint8Array(4096));
    await appendFile(logFile(dir, "partial"), Uint8Array.of(9, 0, 0));

    const driver = open(dir);
    for (const id of ["zeros", "partial"]) {
      const lease = await driver.acquire(id);
      expect(items(replay((await driver.load(id, lease))!))).toEqual(["created", 0, 1]);
    }
    expect(driver.warnings.map((w) => w.obj.reason)).toEqual([expect.stringContaining("zero-length"), expect.stringContaining("short frame header")]);
  });

  test("flipped bytes in the last frame: the frame is dropped and reported", async () => {
    const dir = await tempDir();
    const first = open(dir);
    await seed(first, "a", 3);
    await first.close();
    const path = logFile(dir, "a");
    const last = (await frameOffsets(path)).at(-1)!;
    await flipByte(path, last + FRAME_HEADER_SIZE + 2);

    const { driver, load } = await reload(dir, "a");
    expect(items(replay((await load())!))).toEqual(["created", 0, 1]);
    expect(driver.warnings[0]!.obj.reason).toContain("checksum mismatch");
  });

  test("flipped bytes in a middle frame: StorageCorrupt for that actor only, and nothing is cut", async () => {
    const dir = await tempDir();
    const first = open(dir);
    await seed(first, "bad", 4);
    await seed(first, "good", 2);
    await first.close();
    const path = logFile(dir, "bad");
    const offsets = await frameOffsets(path);
    await flipByte(path, offsets[2]! + FRAME_HEADER_SIZE + 1);
    const before = await readFile(path);

    const driver = open(dir);
    const lease = await driver.acquire("bad");
    await expect(driver.load("bad", lease)).rejects.toBeInstanceOf(StorageCorrupt);
    await expect(driver.load("bad", lease)).rejects.toThrow(/checksum mismatch at byte \d+, valid data follows/);
    await expect(driver.append("bad", { update: new History().push(1) }, lease)).rejects.toBeInstanceOf(StorageCorrupt);
    expect(await readFile(path)).toEqual(before);
    expect(await driver.meta("bad")).toEqual(metaOf("bad"));

    const other = await driver.acquire("good");
    expect(items(replay((await driver.load("good", other))!))).toEqual(["created", 0, 1]);
  });

  test("a damaged length field in a middle frame is corruption, not a torn tail", async () => {
    const dir = await tempDir();
    const first = open(dir);
    await seed(first, "a", 3);
    await first.close();
    const path = logFile(dir, "a");
    const offsets = await frameOffsets(path);
    await flipByte(path, offsets[1]! + 3); // the length's high byte: the frame now "ends" past EOF

    const { load } = await reload(dir, "a");
    await expect(load()).rejects.toThrow(/short frame at byte \d+, valid data follows/);
  });

  test("an unreadable snapshot, meta or log header is StorageCorrupt; other actors keep working", async () => {
    const dir = await tempDir();
    const first = open(dir);
    for (const id of ["snap", "meta", "header", "fine"]) await seed(first, id, 1);
    const lease = await first.acquire("snap");
    await first.compact("snap", { doc: new Uint8Array([0, 0]), privateState: "s", seqs: [], schedules: [], alarm: null }, lease);
    await first.close();
    await flipByte(join(actorDir(dir, "snap"), "snap.1"), 20);
    await flipByte(join(actorDir(dir, "meta"), "meta"), 12);
    await flipByte(logFile(dir, "header"), 1);

    const driver = open(dir);
    for (const id of ["snap", "meta", "header"]) {
      const lease = await driver.acquire(id);
      await expect(driver.load(id, lease)).rejects.toBeInstanceOf(StorageCorrupt);
    }
    await expect(driver.meta("meta")).rejects.toBeInstanceOf(StorageCorrupt);
    const fine = await driver.acquire("fine");
    expect(items(replay((await driver.load("fine", fine))!))).toEqual(["created", 0]);
  });

  test("an actor whose directory lost its meta file is corrupt, not missing", async () => {
    const dir = await tempDir();
    const first = open(dir);
    await seed(first, "a", 0);
    await first.close();
    await unlink(join(actorDir(dir, "a"), "meta"));
    const { driver, load } = await reload(dir, "a");
    await expect(load()).rejects.toBeInstanceOf(StorageCorrupt);
    await expect(driver.meta("a")).rejects.toBeInstanceOf(StorageCorrupt);
  });
});

describe("file driver: group commit and durability", () => {
  test("50 concurrent appends to one actor share one or two write+fsyncs, in order", async () => {
    const driver = open(await tempDir());
    const { lease, history } = await seed(driver, "g", 0);
    const before = { ...driver.stats };
    const updates = upTo(50).map((i) => history.push(i));
    await Promise.all(updates.map((update, i) => driver.append("g", { update, privateState: i }, lease)));
    expect(driver.stats.frames - before.frames).toBeLessThanOrEqual(2);
    expect(driver.stats.fsyncs - before.fsyncs).toBeLessThanOrEqual(2);
    expect(driver.stats.commits - before.commits).toBe(50);
    const stored = (await driver.load("g", lease))!;
    expect(items(replay(stored))).toEqual(["created", ...upTo(50)]);
    expect(stored.privateState).toBe(49);
  });

  test("appends arriving during an fsync wait for the next one, which covers them all", async () => {
    const driver = open(await tempDir());
    const { lease, history } = await seed(driver, "g", 0);
    const before = driver.stats.frames;
    const writes: Promise<void>[] = [];
    // Three waves: each arrives while the previous wave's write+fsync is in flight.
    for (let wave = 0; wave < 3; wave++) {
      for (let i = 0; i < 20; i++) writes.push(driver.append("g", { update: history.push(wave * 20 + i) }, lease));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(writes);
    expect(driver.stats.frames - before).toBeLessThanOrEqual(6);
    expect(items(replay((await driver.load("g", lease))!))).toEqual(["created", ...upTo(60)]);
  });

  test("every append resolves only after an fsync covering it", async () => {
    const driver = open(await tempDir());
    const { lease, history } = await seed(driver, "d", 0);
    const base = driver.stats.commits;
    let resolved = 0;
    const checks = upTo(30).map((i) =>
      driver.append("d", { update: history.push(i) }, lease).then(() => {
        resolved++;
        // `commits` counts commits whose frame's fsync has completed.
        expect(driver.stats.commits - base).toBeGreaterThanOrEqual(resolved);
      }),
    );
    await Promise.all(checks);
    expect(resolved).toBe(30);
  });

  test("concurrent appends to many actors each reach their own log", async () => {
    const driver = open(await tempDir());
    const actors = await Promise.all(upTo(10).map((n) => seed(driver, `m${n}`, 0)));
    const before = driver.stats.frames;
    await Promise.all(actors.flatMap(({ lease, history }) => upTo(5).map((i) => driver.append(lease.id, { update: history.push(i) }, lease))));
    expect(driver.stats.frames - before).toBeLessThanOrEqual(20);
    for (const { lease } of actors) expect(items(replay((await driver.load(lease.id, lease))!))).toEqual(["created", ...upTo(5)]);
  });

  test("close waits for queued appends; operations after close are refused", async () => {
    const dir = await tempDir();
    const driver = open(dir);
    const { lease, history } = await seed(driver, "c", 0);
    const writes = upTo(10).map((i) => driver.append("c", { update: history.push(i) }, lease));
    await driver.close();
    await Promise.all(writes);
    await expect(driver.append("c", { update: history.push("late") }, lease)).rejects.toBeInstanceOf(ActorStopped);
    await expect(driver.acquire("c")).rejects.toThrow(/closed/);
    await driver.close(); // idempotent

    const { load } = await reload(dir, "c");
    expect(items(replay((await load())!))).toEqual(["created", ...upTo(10)]);
  });
});

describe("file driver: compaction is atomic at every crash point", () => {
  const steps: { step: CompactionStep; survives: "old" | "new" }[] = [
    { step: "snapshot-written", survives: "old" },
    { step: "log-created", survives: "old" },
    { step: "renamed", survives: "new" },
    { step: "dir-synced", survives: "new" },
  ];

  for (const { step, survives } of steps) {
    test(`a crash at "${step}" leaves the ${survives} generation, whole`, async () => {
      const dir = await tempDir();
      const crashing = open(dir, {
        testHooks: {
          compactionStep: (at) => {
            if (at === step) throw new Error(`simulated crash at ${at}`);
          },
        },
      });
      const { lease, history } = await seed(crashing, "a", 3);
      const snapshot: Snapshot = { doc: Y.encodeStateAsUpdate(history.doc), privateState: "snapshot", seqs: [], schedules: [], alarm: null };
      await expect(crashing.compact("a", snapshot, lease)).rejects.toThrow("simulated crash");
      await crashing.close();

      const { driver, lease: next, load } = await reload(dir, "a");
      const stored = (await load())!;
      expect(items(replay(stored))).toEqual(["created", 0, 1, 2]);
      expect(stored.privateState).toBe(survives === "old" ? 3 : "snapshot");
      expect(stored.commitsSinceSnapshot).toBe(survives === "old" ? 4 : 0);
      const gen = survives === "old" ? 0 : 1;
      expect((await readdir(actorDir(dir, "a"))).sort()).toEqual(gen === 0 ? ["lease", "log.0", "meta"] : ["lease", "log.1", "meta", "snap.1"]);

      // And it goes on from there: append, compact again, reload.
      await driver.append("a", { update: history.push("after") }, next);
      await driver.compact("a", { ...snapshot, doc: Y.encodeStateAsUpdate(history.doc), privateState: "second" }, next);
      await driver.append("a", { update: history.push("last") }, next);
      const final = await reload(dir, "a");
      const loaded = (await final.load())!;
      expect(items(replay(loaded))).toEqual(["created", 0, 1, 2, "after", "last"]);
      expect(loaded.privateState).toBe("second");
    });
  }

  test("a compaction that fails before its commit point leaves the actor writable", async () => {
    const dir = await tempDir();
    let fail = true;
    const driver = open(dir, {
      testHooks: {
        compactionStep: (at) => {
          if (fail && at === "log-created") throw new Error("disk full");
        },
      },
    });
    const { lease, history } = await seed(driver, "a", 2);
    const snapshot = () => ({ doc: Y.encodeStateAsUpdate(history.doc), privateState: "snap", seqs: [], schedules: [], alarm: null });
    await expect(driver.compact("a", snapshot(), lease)).rejects.toThrow("disk full");
    await driver.append("a", { update: history.push("after failure") }, lease);
    fail = false;
    await driver.compact("a", snapshot(), lease);
    await driver.append("a", { update: history.push("after compaction") }, lease);
    const stored = (await driver.load("a", lease))!;
    expect(items(replay(stored))).toEqual(["created", 0, 1, "after failure", "after compaction"]);
    expect(stored.commitsSinceSnapshot).toBe(1);
  });

  test("a compaction that fails after its commit point stops writes until the actor is loaded again", async () => {
    const dir = await tempDir();
    let fail = true;
    const driver = open(dir, {
      testHooks: {
        compactionStep: (at) => {
          if (fail && at === "renamed") throw new Error("fsync of the directory failed");
        },
      },
    });
    const { lease, history } = await seed(driver, "a", 2);
    await expect(driver.compact("a", { doc: Y.encodeStateAsUpdate(history.doc), privateState: "snap", seqs: [], schedules: [], alarm: null }, lease)).rejects.toThrow();
    await expect(driver.append("a", { update: history.push("refused") }, lease)).rejects.toThrow(/an earlier write failed/);
    fail = false;
    expect((await driver.load("a", lease))!.privateState).toBe("snap");
    await driver.append("a", { update: new History().push("accepted") }, lease);
    expect((await driver.load("a", lease))!.commitsSinceSnapshot).toBe(1);
  });

  test("leftovers of other generations are ignored and removed", async () => {
    const dir = await tempDir();
    const first = open(dir);
    const { lease, history } = await seed(first, "a", 2);
    const oldLog = await readFile(logFile(dir, "a", 0));
    await first.compact("a", { doc: Y.encodeStateAsUpdate(history.doc), privateState: "snap", seqs: [], schedules: [], alarm: null }, lease);
    await first.append("a", { update: history.push("after") }, lease);
    await first.close();
    const files = actorDir(dir, "a");
    await writeFile(join(files, "log.0"), oldLog); // not yet deleted when the crash came
    await writeFile(join(files, "snap.2.tmp"), new Uint8Array(100).fill(7)); // a half-written snapshot
    await writeFile(join(files, "log.2"), new Uint8Array(await readFile(logFile(dir, "a", 1))).subarray(0, FILE_HEADER_SIZE));

    const { load } = await reload(dir, "a");
    const stored = (await load())!;
    expect(items(replay(stored))).toEqual(["created", 0, 1, "after"]);
    expect(stored.commitsSinceSnapshot).toBe(1);
    expect((await readdir(files)).sort()).toEqual(["lease", "log.1", "meta", "snap.1"]);
  });

  test("a snapshot whose new log lost its name loads with an empty log", async () => {
    const dir = await tempDir();
    const first = open(dir);
    const { lease, history } = await seed(first, "a", 2);
    await first.compact("a", { doc: Y.encodeStateAsUpdate(history.doc), privateState: "snap", seqs: [], schedules: [], alarm: null }, lease);
    await first.close();
    await unlink(logFile(dir, "a", 1));
    const { driver, lease: next, load } = await reload(dir, "a");
    expect((await load())!.privateState).toBe("snap");
    await driver.append("a", { update: history.push("x") }, next);
    expect(items(replay((await load())!))).toEqual(["created", 0, 1, "x"]);
  });

  test("a newer log holding commits without its snapshot is corruption, never deleted", async () => {
    const dir = await tempDir();
    const first = open(dir);
    await seed(first, "a", 2);
    await first.close();
    await writeFile(logFile(dir, "a", 1), await readFile(logFile(dir, "a", 0)));
    const { load } = await reload(dir, "a");
    await expect(load()).rejects.toThrow(/log\.1 holds commits but snap\.1 is missing/);
    expect((await readdir(actorDir(dir, "a"))).sort()).toContain("log.1");
  });
});

describe("file driver: create, fencing and tokens", () => {
  test("a create interrupted before its rename leaves no actor", async () => {
    const dir = await tempDir();
    const first = open(dir);
    await seed(first, "a", 1);
    await first.close();
    // What a crash mid-create leaves: a complete-looking actor directory under tmp/.
    await cp(actorDir(dir, "a"), join(dir, "tmp", `${Buffer.from("b").toString("hex")}.0123456789ab`), { recursive: true });

    const driver = open(dir);
    const lease = await driver.acquire("b");
    expect(await driver.load("b", lease)).toBeNull();
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
    await driver.create(metaOf("b"), { update: new History().push("b") }, lease);
    expect(items(replay((await driver.load("b", lease))!))).toEqual(["b"]);
  });

  test("tokens keep increasing across reopen, and survive one torn token slot", async () => {
    const dir = await tempDir();
    const first = open(dir);
    const { lease } = await seed(first, "a", 0);
    const second = await first.acquire("a");
    await first.close();

    const driver = open(dir);
    const third = await driver.acquire("a");
    expect(third.token).toBe(second.token + 1);
    expect(second.token).toBe(lease.token + 1);
    await driver.close();

    await flipByte(join(actorDir(dir, "a"), "lease"), FILE_HEADER_SIZE + 1); // one slot
    const again = open(dir);
    const fourth = await again.acquire("a");
    expect(fourth.token).toBeGreaterThanOrEqual(third.token);
    expect(fourth.token).toBeGreaterThan(second.token);
    await again.close();

    const bytes = await readFile(join(actorDir(dir, "a"), "lease"));
    bytes.fill(0xff, FILE_HEADER_SIZE); // both slots
    await writeFile(join(actorDir(dir, "a"), "lease"), bytes);
    const broken = open(dir);
    await expect(broken.acquire("a")).rejects.toBeInstanceOf(StorageCorrupt);
  });

  test("two driver objects on one directory: the one that acquired last is the only writer", async () => {
    const dir = await tempDir();
    const old = open(dir);
    const { lease: oldLease, history } = await seed(old, "a", 1);
    const pending = upTo(5).map((i) => old.append("a", { update: history.push(`old ${i}`) }, oldLease));

    const restarted = open(dir);
    const lease = await restarted.acquire("a");
    await Promise.all(pending); // queued before the acquire: written before the new owner loads
    await expect(old.append("a", { update: new History().push("stale") }, oldLease)).rejects.toBeInstanceOf(StaleLease);
    await expect(old.compact("a", { doc: new Uint8Array([0, 0]), privateState: null, seqs: [], schedules: [], alarm: null }, oldLease)).rejects.toBeInstanceOf(
      StaleLease,
    );

    expect(items(replay((await restarted.load("a", lease))!))).toEqual(["created", 0, ...upTo(5).map((i) => `old ${i}`)]);
    await old.close();
    await restarted.append("a", { update: history.push("new") }, lease);
    expect(items(replay((await restarted.load("a", lease))!)).at(-1)).toBe("new");
  });

  test("ids become hex file names: any string works, overlong ids are refused", async () => {
    const driver = open(await tempDir());
    for (const id of ["../escape", "a/b\\c", "ünïcødé ✓", "CaseSensitive", "casesensitive"]) {
      const lease = await driver.acquire(id);
      await driver.create(metaOf(id), { update: new History().push(id) }, lease);
    }
    for (const id of ["../escape", "CaseSensitive", "casesensitive"]) {
      const lease = await driver.acquire(id);
      expect(items(replay((await driver.load(id, lease))!))).toEqual([id]);
    }
    await expect(driver.acquire("x".repeat(121))).rejects.toBeInstanceOf(InvalidArguments);
    await expect(driver.acquire("")).rejects.toBeInstanceOf(InvalidArguments);
  });
});

describe("file driver: the alarm index", () => {
  async function withAlarm(dir: string, id: string, at: number) {
    const driver = open(dir);
    const lease = await driver.acquire(id);
    await driver.create(metaOf(id, "room", [id]), { update: new History().push(1), schedules: { put: [{ id: "s", at, action: "tick", args: [] }] }, alarm: at }, lease);
    return { driver, lease };
  }
  const alarmFile = (dir: string, id: string) => join(dir, "alarms", Buffer.from(id).toString("hex"));

  test("alarms() reads the index, not the logs", async () => {
    const dir = await tempDir();
    const { driver } = await withAlarm(dir, "a", 1234);
    await driver.close();
    await unlink(logFile(dir, "a"));
    expect(await open(dir).alarms()).toEqual([{ id: "a", name: "room", key: ["a"], at: 1234 }]);
  });

  test("an entry left too early (a crash lost a later rewrite) is repaired when the actor loads", async () => {
    const dir = await tempDir();
    const { driver, lease } = await withAlarm(dir, "a", 100);
    const early = await readFile(alarmFile(dir, "a"));
    await driver.append("a", { schedules: { put: [{ id: "s", at: 900, action: "tick", args: [] }] }, alarm: 900 }, lease);
    await driver.close();
    await writeFile(alarmFile(dir, "a"), early);

    const again = open(dir);
    expect(await again.alarms()).toEqual([{ id: "a", name: "room", key: ["a"], at: 100 }]); // early: a harmless extra wake
    const next = await again.acquire("a");
    await again.load("a", next);
    expect(await again.alarms()).toEqual([{ id: "a", name: "room", key: ["a"], at: 900 }]);
  });

  test("a missing entry is restored when the actor loads", async () => {
    const dir = await tempDir();
    const { driver } = await withAlarm(dir, "a", 500);
    await driver.close();
    await unlink(alarmFile(dir, "a"));
    const again = open(dir);
    expect(await again.alarms()).toEqual([]);
    await again.load("a", await again.acquire("a"));
    expect(await again.alarms()).toEqual([{ id: "a", name: "room", key: ["a"], at: 500 }]);
  });

  test("an unreadable entry wakes its actor at once; an entry without an actor is dropped", async () => {
    const dir = await tempDir();
    const { driver } = await withAlarm(dir, "a", 500);
    await driver.close();
    await flipByte(alarmFile(dir, "a"), 12);
    await mkdir(join(dir, "alarms"), { recursive: true });
    await writeFile(alarmFile(dir, "ghost"), await readFile(alarmFile(dir, "a")));

    const again = open(dir);
    expect(await again.alarms()).toEqual([{ id: "a", name: "room", key: ["a"], at: 0 }]);
    expect(await readdir(join(dir, "alarms"))).toEqual([Buffer.from("a").toString("hex")]);
  });
});

describe("file driver: under a real server", () => {
  const counter = actor({
    state: { items: [] as number[] },
    privateState: { calls: 0 },
    actions: {
      add: (c, n: number) => {
        c.state.items.push(n);
        c.privateState.calls++;
        return c.state.items.length;
      },
      later: (c, ms: number) => {
        c.schedule.after(ms, "add", -1);
      },
      items: (c) => c.state.items,
      calls: (c) => c.privateState.calls,
    },
  });
  const registry = setup({ use: { counter } });

  test("state, privateState, compaction and schedules survive a restart", async () => {
    const dir = await tempDir();
    const server = createServer(registry, { driver: open(dir), logger: false, compactAfterCommits: 7 });
    const handle = server.client.counter.getOrCreate("c");
    for (let n = 0; n < 20; n++) await handle.add(n);
    await handle.later(3_600_000);
    const id = await handle.resolve();
    await server.close();
    expect((await readdir(actorDir(dir, id))).some((name) => name.startsWith("snap."))).toBe(true);

    const driver = open(dir);
    const alarms = await driver.alarms();
    expect(alarms).toEqual([{ id, name: "counter", key: ["c"], at: expect.any(Number) }]);
    const restarted = createServer(registry, { driver, logger: false });
    await restarted.ready;
    expect(await restarted.client.counter.getForId(id).items()).toEqual(upTo(20));
    expect(await restarted.client.counter.get("c").calls()).toBe(20);
    expect(id).toBe(actorId("counter", ["c"]));
    await restarted.close();
  });

  test("a torn tail does not stop the actor from loading", async () => {
    const dir = await tempDir();
    const server = createServer(registry, { driver: open(dir), logger: false });
    for (let n = 0; n < 5; n++) await server.client.counter.getOrCreate("t").add(n);
    const id = await server.client.counter.get("t").resolve();
    await server.close();
    await appendFile(logFile(dir, id), Uint8Array.of(200, 1, 0, 0, 1, 2, 3));

    const driver = open(dir);
    const restarted = createServer(registry, { driver, logger: false });
    expect(await restarted.client.counter.get("t").items()).toEqual(upTo(5));
    expect(driver.warnings).toHaveLength(1);
    await restarted.close();
  });
});

describe("file driver: one process per directory", () => {
  test("a directory held by a live process is refused; a lock left by a dead one is taken over", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "LOCK"), JSON.stringify({ pid: process.ppid, start: null }));
    const refused = open(dir);
    await expect(refused.acquire("a")).rejects.toThrow(`in use by process ${process.ppid}`);

    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.on("exit", resolve));
    await writeFile(join(dir, "LOCK"), JSON.stringify({ pid: dead.pid, start: null }));
    const driver = open(dir);
    await seed(driver, "a", 1);
    expect(JSON.parse(await readFile(join(dir, "LOCK"), "utf8"))).toMatchObject({ pid: process.pid });
    await driver.close();
    await expect(stat(join(dir, "LOCK"))).rejects.toThrow();
  });
});

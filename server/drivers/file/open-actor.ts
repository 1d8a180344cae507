/**
 * Opening one actor's directory from disk — the recovery path (layout in actor-files.ts):
 *
 * - the generation in use is the highest g with a `snap.<g>` (0 without one); a snapshot
 *   that cannot be read is corruption (it was fsync'ed before it was renamed in);
 * - a newer `log.<g+1>` without its snapshot is the leftover of an unfinished compaction and
 *   holds only its header; if it holds commits, that is corruption (never deleted);
 * - the log is scanned (format.ts): a torn tail is reported and cut off so that later
 *   appends follow the last good frame; damage before the tail is corruption;
 * - files of other generations and temp files are removed; the directory is fsync'ed so
 *   that those repairs, and the names of the files in use, are durable — before the first
 *   write, not before the load returns (actor-files.ts).
 *
 * Corruption is a `StorageCorrupt` for this actor alone, and nothing is modified.
 */
import { type FileHandle, open, readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { StorageCorrupt } from "../../../shared/errors.ts";
import type { ActorMeta, Commit, Snapshot } from "../driver.ts";
import { decodeBatch, decodeMeta, decodeSnapshot } from "./codec.ts";
import { FILE_HEADER_SIZE, fileHeader, headerProblem, readSingleFrame, scanFrames } from "./format.ts";
import { datasync, isErrno, readFileOrNull, writeFileDurable } from "./fs-util.ts";
import type { FileDriverLogger, FileDriverStats } from "./types.ts";

export interface ActorPlace {
  readonly dir: string;
  readonly id: string;
  readonly stats: FileDriverStats;
  readonly log: FileDriverLogger;
}

export interface OpenedActor {
  readonly meta: ActorMeta;
  readonly snapshot: Snapshot | null;
  /** The commits since the snapshot (empty unless asked to decode them). */
  readonly commits: Commit[];
  /** The log of generation `gen`, open for writing at `size`. */
  readonly handle: FileHandle;
  readonly gen: number;
  readonly size: number;
}

const SNAP = /^snap\.(\d+)$/;
const LOG = /^log\.(\d+)$/;

export function corrupt(id: string, message: string, cause?: unknown): StorageCorrupt {
  return new StorageCorrupt(`Actor ${id}: ${message}`, cause === undefined ? {} : { cause });
}

/** An actor exists once its directory does: create renames it into place whole. */
export async function actorExists(dir: string): Promise<boolean> {
  try {
    await stat(dir);
    return true;
  } catch (error) {
    if (isErrno(error, "ENOENT")) return false;
    throw error;
  }
}

export async function readMetaFile(dir: string, id: string): Promise<ActorMeta | null> {
  const bytes = await readFileOrNull(join(dir, "meta"));
  if (bytes === null) {
    if (await actorExists(dir)) throw corrupt(id, "the meta file is missing");
    return null;
  }
  const payload = readSingleFrame(bytes, "meta");
  if (typeof payload === "string") throw corrupt(id, `meta file: ${payload}`);
  let meta: ActorMeta;
  try {
    meta = decodeMeta(payload);
  } catch (error) {
    throw corrupt(id, "meta file: undecodable", error);
  }
  if (meta.id !== id) throw corrupt(id, `the meta file names another actor (${meta.id})`);
  return meta;
}

async function readSnapshot(place: ActorPlace, gen: number): Promise<Snapshot> {
  const bytes = await readFileOrNull(join(place.dir, `snap.${gen}`));
  const payload = bytes === null ? "vanished while opening" : readSingleFrame(bytes, "snapshot");
  if (typeof payload === "string") throw corrupt(place.id, `snap.${gen}: ${payload}`);
  try {
    return decodeSnapshot(payload);
  } catch (error) {
    throw corrupt(place.id, `snap.${gen}: undecodable`, error);
  }
}

/** The directory's names, or null when it does not exist. */
async function listNames(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return null;
    throw error;
  }
}

/** A log opened for writing, and its bytes; null when it is missing. */
async function openLog(logPath: string): Promise<{ handle: FileHandle; bytes: Uint8Array } | null> {
  let handle: FileHandle;
  try {
    handle = await open(logPath, "r+");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return null;
    throw error;
  }
  try {
    const buffer = await handle.readFile();
    return { handle, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Reads the actor, repairing what a crash may leave; null when it does not exist. Independent
 * reads run together (the names and the meta; then the snapshot, the log and any newer log).
 * The directory is not fsync'ed here: `syncDir(place.dir)` must complete before anything
 * is written to the actor (actor-files.ts starts it at once and makes writes wait for it).
 */
export async function openActor(place: ActorPlace, decode: boolean): Promise<OpenedActor | null> {
  const { dir, id } = place;
  const [listed, read] = await Promise.allSettled([listNames(dir), readMetaFile(dir, id)]);
  if (listed.status === "rejected") throw listed.reason;
  const names = listed.value;
  if (names === null) return null;
  if (read.status === "rejected") throw read.reason;
  const meta = read.value;
  if (meta === null) throw corrupt(id, "the meta file is missing");

  const generation = (name: string, pattern: RegExp) => {
    const match = pattern.exec(name);
    return match === null ? null : Number(match[1]);
  };
  const gen = Math.max(0, ...names.map((name) => generation(name, SNAP) ?? 0));
  const newerLogs = async () => {
    for (const name of names) {
      const later = generation(name, LOG);
      if (later === null || later <= gen) continue;
      const bytes = await readFileOrNull(join(dir, name));
      if (bytes !== null && bytes.length > FILE_HEADER_SIZE) throw corrupt(id, `log.${later} holds commits but snap.${later} is missing`);
    }
  };
  const logPath = join(dir, `log.${gen}`);
  const [snapshotRead, newerRead, logRead] = await Promise.allSettled([gen > 0 ? readSnapshot(place, gen) : null, newerLogs(), openLog(logPath)]);
  let log = logRead.status === "fulfilled" ? logRead.value : null;
  try {
    // In the order the reads were done one by one: the first problem found is the one reported.
    if (snapshotRead.status === "rejected") throw snapshotRead.reason;
    if (newerRead.status === "rejected") throw newerRead.reason;
    if (logRead.status === "rejected") throw logRead.reason;
    const snapshot = snapshotRead.value;
    if (log === null) {
      // A compaction fsyncs its new log before renaming its snapshot in, but nothing orders
      // the two names on disk. No commit can have reached a log whose name was not durable.
      if (gen === 0) throw corrupt(id, "log.0 is missing");
      const header = fileHeader("log");
      await writeFileDurable(logPath, header, place.stats);
      log = { handle: await open(logPath, "r+"), bytes: header };
    }
    const { handle, bytes } = log;
    const problem = headerProblem(bytes, "log");
    if (problem !== null) throw corrupt(id, `log.${gen}: ${problem}`);
    const scan = scanFrames(bytes);
    if (scan.kind === "corrupt") throw corrupt(id, `log.${gen}: ${scan.reason}`);

    const commits: Commit[] = [];
    if (decode) {
      for (const payload of scan.payloads) {
        try {
          for (const commit of decodeBatch(payload)) commits.push(commit);
        } catch (error) {
          throw corrupt(id, `log.${gen}: undecodable commit batch`, error);
        }
      }
    }

    if (scan.kind === "torn") {
      place.stats.tornTails++;
      place.log.warn(
        { actorId: id, file: logPath, offset: scan.end, droppedBytes: bytes.length - scan.end, reason: scan.reason },
        "file driver: dropped the torn tail of an actor's log (a write that was never acknowledged)",
      );
      await handle.truncate(scan.end);
      await datasync(handle, place.stats);
    }
    const stale = names.filter((name) => {
      const snap = generation(name, SNAP);
      const other = generation(name, LOG);
      return name.endsWith(".tmp") || (snap !== null && snap < gen) || (other !== null && other !== gen);
    });
    await Promise.all(stale.map((name) => unlink(join(dir, name)).catch(() => undefined)));
    return { meta, snapshot, commits, handle, gen, size: scan.end };
  } catch (error) {
    await log?.handle.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Writing a generation of an actor's files up to its commit point (see the layout in
 * actor-files.ts): generation 0 of a new actor in a temp directory renamed into place, and
 * generation g+1 of a compaction beside g until its snapshot is renamed into place. Before
 * the commit point nothing a reader sees has changed; a failure removes what was written.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ActorMeta, Lease } from "../driver.ts";
import { encodeMeta } from "./codec.ts";
import { encodeFrame, fileHeader } from "./format.ts";
import { type SyncStats, datasync, isErrno, syncDir, writeAll, writeFileDurable } from "./fs-util.ts";
import { encodeLeaseFile } from "./lease-file.ts";
import type { CompactionStep } from "./types.ts";

/**
 * A new actor's directory: every file written and fsync'ed in a temp directory renamed to
 * `dir` — atomic, and the rename fails (with `exists()`) if the actor exists. `beforeRename`
 * runs once the files are durable (the alarm index entry goes first: an early or orphan
 * entry is harmless, a missing one is not).
 */
export async function writeFirstGeneration(
  place: { readonly dir: string; readonly tmpDir: string; readonly hex: string; readonly stats: SyncStats },
  meta: ActorMeta,
  lease: Lease,
  logBytes: Uint8Array,
  beforeRename: () => Promise<void>,
  exists: () => Error,
): Promise<void> {
  const temp = join(place.tmpDir, `${place.hex}.${randomBytes(6).toString("hex")}`);
  await mkdir(temp);
  try {
    await Promise.all([
      writeFileDurable(join(temp, "meta"), encodeFrame(encodeMeta(meta), "meta"), place.stats),
      writeFileDurable(join(temp, "lease"), encodeLeaseFile(lease.token), place.stats),
      writeFileDurable(join(temp, "log.0"), logBytes, place.stats),
    ]);
    await syncDir(temp, place.stats);
    await beforeRename();
    try {
      await rename(temp, place.dir);
    } catch (error) {
      throw isErrno(error, "EEXIST", "ENOTEMPTY") ? exists() : error;
    }
  } catch (error) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * Generation `next` of a compaction: `snap.<next>.tmp` written and fsync'ed, `log.<next>`
 * created (header only) and fsync'ed, then the snapshot renamed into place — the commit
 * point. Gives the new log, open.
 */
export async function writeNextGeneration(
  dir: string,
  next: number,
  snapshotBytes: Uint8Array,
  stats: SyncStats,
  step: (step: CompactionStep) => Promise<void>,
): Promise<FileHandle> {
  const snapTemp = join(dir, `snap.${next}.tmp`);
  let newLog: FileHandle | null = null;
  try {
    await writeFileDurable(snapTemp, snapshotBytes, stats);
    await step("snapshot-written");
    newLog = await open(join(dir, `log.${next}`), "w+");
    await writeAll(newLog, fileHeader("log"), 0);
    await datasync(newLog, stats);
    await step("log-created");
    await rename(snapTemp, join(dir, `snap.${next}`));
  } catch (error) {
    await newLog?.close().catch(() => undefined);
    throw error;
  }
  return newLog;
}

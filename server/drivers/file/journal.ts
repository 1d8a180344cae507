/**
 * The directory's shared journal: group commit across actors. An actor's append writes its
 * frame into its own log without an fsync, then hands the same frame to the journal; the
 * journal writes every frame handed to it while its previous write ran as one frame of its
 * own, durably (one write with O_DSYNC, or write + fdatasync), and only then do those
 * appends resolve. Fifty actors appending at once cost one fsync, not fifty.
 *
 *   <dir>/journal.<n>   header + frames; frame payload = count:varuint entry*
 *   entry = hex:string gen:varuint offset:varuint frame:bytes   (`frame` was written to
 *           actors/<hex>/log.<gen> at `offset`)
 *
 * What is durable is therefore: each log as of its last fsync, plus the journal. Recovery
 * (`replayJournals`, when the directory is opened, before any actor is read) writes every
 * journaled frame back at its offset where the log does not already hold it, fsyncs those
 * logs and removes the journals. Replaying is idempotent: a log only grows within a
 * generation, and a log whose generation was compacted away is gone (its snapshot covers it).
 *
 * A log holds at most one frame that is not journaled (an actor appends one batch at a time),
 * and it is the last one, so the log's recovery rule (only the tail can be torn) still holds.
 *
 * Checkpoint: once a journal is large, the next write goes to a new journal file; every log
 * written during the old one is fsync'ed (through its actor's queue); then the old file is
 * deleted. A failed journal write stops the journal: what the file holds is unknown, so no
 * later append may be acknowledged (the directory must be opened again).
 */
import { constants } from "node:fs";
import { type FileHandle, open, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { FILE_HEADER_SIZE, encodeFrame, fileHeader, headerProblem, scanFrames } from "./format.ts";
import { datasync, isErrno, readFileOrNull, syncDir, writeAll } from "./fs-util.ts";
import type { FileDriverLogger, FileDriverStats } from "./types.ts";

/** A log that frames were journaled for: fsync'ed at a checkpoint. */
export interface JournaledLog {
  /** Makes every frame written to the log so far durable (the journal may then forget them). */
  syncLog(): Promise<void>;
}

export interface JournalEntry {
  readonly hex: string;
  readonly gen: number;
  readonly offset: number;
  readonly frame: Uint8Array;
}

interface Pending {
  readonly entry: JournalEntry;
  readonly log: JournaledLog;
  resolve(): void;
  reject(error: unknown): void;
}

/** Past this size, a journal is checkpointed and a new one started. */
const CHECKPOINT_BYTES = 8 * 1024 * 1024;
const NAME = /^journal\.(\d+)$/;
const DSYNC: number = (constants as { O_DSYNC?: number }).O_DSYNC ?? 0;

interface JournalFile {
  readonly n: number;
  readonly handle: FileHandle;
  size: number;
  /** The logs with frames in this file. */
  readonly logs: Set<JournaledLog>;
}

export class Journal {
  private pending: Pending[] = [];
  private writing = false;
  private failure: unknown = null;
  private checkpointing: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly root: string,
    private readonly stats: FileDriverStats,
    private readonly log: FileDriverLogger,
    private current: JournalFile,
    private readonly checkpointBytes: number,
  ) {}

  /** Replays what earlier processes journaled, then starts a new journal. */
  static async open(root: string, actorsDir: string, stats: FileDriverStats, log: FileDriverLogger, checkpointBytes = CHECKPOINT_BYTES): Promise<Journal> {
    const last = await replayJournals(root, actorsDir, stats, log);
    return new Journal(root, stats, log, await createJournalFile(root, last + 1, stats), checkpointBytes);
  }

  /** Resolves once `entry` is durable (with everything handed over before it). */
  commit(entry: JournalEntry, log: JournaledLog): Promise<void> {
    if (this.failure !== null) return Promise.reject(stopped(this.failure));
    if (this.closed) return Promise.reject(new Error("The journal is closed"));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, log, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        // Entries handed over in this same tick join the first write.
        queueMicrotask(() => void this.writeLoop());
      }
    });
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        if (this.failure !== null) {
          for (const pending of batch) pending.reject(stopped(this.failure));
          continue;
        }
        try {
          await this.write(batch);
        } catch (error) {
          this.failure = error;
          this.log.warn({ err: error, journal: this.current.n }, "file driver: a journal write failed; no more appends until the directory is opened again");
          for (const pending of batch) pending.reject(error);
          continue;
        }
        for (const pending of batch) pending.resolve();
        if (this.current.size >= this.checkpointBytes && this.checkpointing === null) {
          this.checkpointing = this.checkpoint().finally(() => (this.checkpointing = null));
          this.checkpointing.catch((error) => this.log.warn({ err: error }, "file driver: a journal checkpoint failed; the journal is kept"));
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, batch.length);
    for (const { entry } of batch) {
      encoding.writeVarString(encoder, entry.hex);
      encoding.writeVarUint(encoder, entry.gen);
      encoding.writeVarUint(encoder, entry.offset);
      encoding.writeVarUint8Array(encoder, entry.frame);
    }
    const frame = encodeFrame(encoding.toUint8Array(encoder));
    const file = this.current;
    await writeAll(file.handle, frame, file.size);
    if (DSYNC === 0) await datasync(file.handle, this.stats);
    else this.stats.fsyncs++;
    file.size += frame.length;
    for (const { log } of batch) file.logs.add(log);
  }

  /** Moves on to a new journal file, then makes the old one's logs durable and deletes it. */
  private async checkpoint(): Promise<void> {
    const old = this.current;
    this.current = await createJournalFile(this.root, old.n + 1, this.stats);
    await Promise.all([...old.logs].map((log) => log.syncLog()));
    await old.handle.close();
    await unlink(journalPath(this.root, old.n));
  }

  /**
   * Once every log is closed (and so fsync'ed): nothing is left to replay, the journals go.
   * `clean`: whether every log was closed durably (otherwise the journals are kept).
   */
  async close(clean: boolean): Promise<void> {
    this.closed = true;
    await this.checkpointing?.catch(() => undefined);
    await this.current.handle.close().catch(() => undefined);
    if (clean && this.failure === null) {
      await unlink(journalPath(this.root, this.current.n)).catch(() => undefined);
    }
  }
}

function stopped(cause: unknown): Error {
  return new Error("An earlier journal write failed; nothing more is written until the directory is opened again", { cause });
}

function journalPath(root: string, n: number): string {
  return join(root, `journal.${n}`);
}

async function createJournalFile(root: string, n: number, stats: FileDriverStats): Promise<JournalFile> {
  const handle = await open(journalPath(root, n), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | DSYNC);
  try {
    await writeAll(handle, fileHeader("journal"), 0);
    await datasync(handle, stats);
    await syncDir(root, stats); // its name is durable before any append depends on it
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return { n, handle, size: FILE_HEADER_SIZE, logs: new Set() };
}

/**
 * Writes the frames of every journal left in `root` back into their logs, fsyncs the logs,
 * then deletes the journals. Returns the highest journal number seen (0: none).
 */
export async function replayJournals(root: string, actorsDir: string, stats: FileDriverStats, log: FileDriverLogger): Promise<number> {
  const numbers = (await readdir(root))
    .map((name) => NAME.exec(name))
    .filter((match) => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
  const handles = new Map<string, FileHandle | null>();
  try {
    for (const n of numbers) {
      const bytes = await readFileOrNull(journalPath(root, n));
      if (bytes === null) continue;
      const problem = headerProblem(bytes, "journal");
      if (problem !== null) {
        // A journal whose header never became durable held nothing that was acknowledged.
        if (bytes.length > FILE_HEADER_SIZE) throw new Error(`journal.${n}: ${problem}`);
        continue;
      }
      const scan = scanFrames(bytes);
      if (scan.kind === "corrupt") throw new Error(`journal.${n}: ${scan.reason}`);
      if (scan.kind === "torn") {
        stats.tornTails++;
        log.warn({ journal: n, offset: scan.end, reason: scan.reason }, "file driver: dropped the torn tail of the journal (a write that was never acknowledged)");
      }
      for (const payload of scan.payloads) {
        for (const entry of decodeEntries(payload)) await replayEntry(actorsDir, entry, handles);
      }
    }
    for (const handle of handles.values()) if (handle !== null) await datasync(handle, stats);
  } finally {
    for (const handle of handles.values()) await handle?.close().catch(() => undefined);
  }
  for (const n of numbers) await unlink(journalPath(root, n)).catch((error) => (isErrno(error, "ENOENT") ? undefined : Promise.reject(error)));
  if (numbers.length > 0) await syncDir(root, stats);
  return numbers.length > 0 ? numbers[numbers.length - 1]! : 0;
}

function decodeEntries(payload: Uint8Array): JournalEntry[] {
  const decoder = decoding.createDecoder(payload);
  const count = decoding.readVarUint(decoder);
  const entries: JournalEntry[] = [];
  for (let i = 0; i < count; i++) {
    const hex = decoding.readVarString(decoder);
    const gen = decoding.readVarUint(decoder);
    const offset = decoding.readVarUint(decoder);
    const frame = decoding.readVarUint8Array(decoder);
    if (!/^[0-9a-f]+$/.test(hex)) throw new Error(`journal entry names an invalid actor directory "${hex}"`);
    entries.push({ hex, gen, offset, frame });
  }
  if (decoding.hasContent(decoder)) throw new Error("journal frame has trailing bytes");
  return entries;
}

/** Puts one frame back at its place in its log, unless the log already holds it (or is gone). */
async function replayEntry(actorsDir: string, entry: JournalEntry, handles: Map<string, FileHandle | null>): Promise<void> {
  const path = join(actorsDir, entry.hex, `log.${entry.gen}`);
  let handle = handles.get(path);
  if (handle === undefined) {
    try {
      handle = await open(path, "r+");
    } catch (error) {
      if (!isErrno(error, "ENOENT")) throw error;
      handle = null; // compacted away: the snapshot that replaced it holds this frame
    }
    handles.set(path, handle);
  }
  if (handle === null) return;
  const existing = new Uint8Array(entry.frame.length);
  const { bytesRead } = await handle.read(existing, 0, existing.length, entry.offset);
  if (bytesRead === existing.length && equalBytes(existing, entry.frame)) return;
  await writeAll(handle, entry.frame, entry.offset);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

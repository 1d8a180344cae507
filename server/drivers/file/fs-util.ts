/**
 * The few file-system moves the file driver is built from, each with its durability spelled
 * out: `write*` + `datasync` for data, `syncDir` for directory entries (a created, renamed or
 * deleted name is durable only once its directory is fsync'ed).
 */
import { type FileHandle, open, readFile } from "node:fs/promises";
import { writeSync } from "node:fs";

/** Counts fsync calls (tests check group commit with it; the bench reports it). */
export interface SyncStats {
  fsyncs: number;
}

export function isErrno(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes((error as NodeJS.ErrnoException).code ?? "");
}

/** Writes all of `bytes` at `position` (short writes are continued, not assumed away). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw new Error("write made no progress");
    done += bytesWritten;
  }
}

/**
 * `writeAll` without leaving the thread: for small writes into the page cache (no fsync),
 * where a thread-pool round trip costs more than the write (~50 µs against a few).
 */
export function writeAllNow(handle: FileHandle, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const written = writeSync(handle.fd, bytes, done, bytes.length - done, position + done);
    if (written <= 0) throw new Error("write made no progress");
    done += written;
  }
}

export async function datasync(handle: FileHandle, stats: SyncStats): Promise<void> {
  await handle.datasync();
  stats.fsyncs++;
}

/** Makes the names in a directory (created, renamed, removed) durable. */
export async function syncDir(path: string, stats: SyncStats): Promise<void> {
  if (process.platform === "win32") return; // directories cannot be opened there; NTFS journals renames
  const handle = await open(path, "r");
  try {
    await handle.sync();
    stats.fsyncs++;
  } finally {
    await handle.close();
  }
}

/** Creates or replaces `path` with `bytes`, fsync'ed (the name itself still needs `syncDir`). */
export async function writeFileDurable(path: string, bytes: Uint8Array, stats: SyncStats): Promise<void> {
  const handle = await open(path, "w");
  try {
    await writeAll(handle, bytes, 0);
    await datasync(handle, stats);
  } finally {
    await handle.close();
  }
}

/** The file's bytes as a plain Uint8Array, or null when it does not exist. */
export async function readFileOrNull(path: string): Promise<Uint8Array | null> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return null;
    throw error;
  }
}

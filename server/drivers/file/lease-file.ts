/**
 * The persisted fencing token of one actor (`actors/<id>/lease`), so tokens keep increasing
 * across restarts. Two slots, double-buffered like a file-system superblock:
 *
 *   lease = header slot slot          slot = lo:u32le hi:u32le crc:u32le (CRC-32 of lo ‖ hi)
 *
 * An update overwrites the slot holding the smaller (or an unreadable) token in place and is
 * fsync'ed, so a write torn by a crash leaves the other slot — the previous token — intact.
 */
import { open, rename } from "node:fs/promises";
import { join } from "node:path";
import { StorageCorrupt } from "../../../shared/errors.ts";
import { crc32 } from "./crc32.ts";
import { FILE_HEADER_SIZE, fileHeader, headerProblem, readU32, writeU32 } from "./format.ts";
import { type SyncStats, datasync, readFileOrNull, syncDir, writeAll, writeFileDurable } from "./fs-util.ts";

const SLOT_SIZE = 12;
export const LEASE_FILE_SIZE = FILE_HEADER_SIZE + 2 * SLOT_SIZE;

function encodeSlot(token: number): Uint8Array {
  const slot = new Uint8Array(SLOT_SIZE);
  writeU32(slot, 0, token % 2 ** 32);
  writeU32(slot, 4, Math.floor(token / 2 ** 32));
  writeU32(slot, 8, crc32(slot.subarray(0, 8)));
  return slot;
}

function readSlot(bytes: Uint8Array, index: number): number | null {
  const at = FILE_HEADER_SIZE + index * SLOT_SIZE;
  if (bytes.length < at + SLOT_SIZE) return null;
  if (crc32(bytes.subarray(at, at + 8)) !== readU32(bytes, at + 8)) return null;
  return readU32(bytes, at) + readU32(bytes, at + 4) * 2 ** 32;
}

export function encodeLeaseFile(token: number): Uint8Array {
  const out = new Uint8Array(LEASE_FILE_SIZE);
  out.set(fileHeader("lease"), 0);
  out.set(encodeSlot(token), FILE_HEADER_SIZE);
  out.set(encodeSlot(token), FILE_HEADER_SIZE + SLOT_SIZE);
  return out;
}

/** The newest token stored, or a string saying why none can be read. */
export function decodeLeaseFile(bytes: Uint8Array): number | string {
  const problem = headerProblem(bytes, "lease");
  if (problem !== null) return problem;
  const a = readSlot(bytes, 0);
  const b = readSlot(bytes, 1);
  if (a === null && b === null) return "both token slots are unreadable";
  return Math.max(a ?? 0, b ?? 0);
}

/** Where and what to write to store `token` in a lease file whose bytes are `current`. */
export function leaseSlotWrite(current: Uint8Array, token: number): { position: number; bytes: Uint8Array } {
  const a = readSlot(current, 0);
  const b = readSlot(current, 1);
  const index = a === null ? 0 : b === null ? 1 : a <= b ? 0 : 1;
  return { position: FILE_HEADER_SIZE + index * SLOT_SIZE, bytes: encodeSlot(token) };
}

/** The token stored in an actor directory (0 when there is none: the actor does not exist). */
export async function readLeaseToken(dir: string, id: string): Promise<number> {
  const bytes = await readFileOrNull(join(dir, "lease"));
  if (bytes === null) return 0;
  const token = decodeLeaseFile(bytes);
  if (typeof token === "string") throw new StorageCorrupt(`Actor ${id}: lease file: ${token}`);
  return token;
}

/** Stores a newer token durably: one slot in place, or a whole new file renamed in. */
export async function writeLeaseToken(dir: string, token: number, stats: SyncStats): Promise<void> {
  const path = join(dir, "lease");
  const current = await readFileOrNull(path);
  if (current === null || headerProblem(current, "lease") !== null) {
    await writeFileDurable(`${path}.tmp`, encodeLeaseFile(token), stats);
    await rename(`${path}.tmp`, path);
    await syncDir(dir, stats);
    return;
  }
  const { position, bytes } = leaseSlotWrite(current, token);
  const handle = await open(path, "r+");
  try {
    await writeAll(handle, bytes, position);
    await datasync(handle, stats);
  } finally {
    await handle.close();
  }
}

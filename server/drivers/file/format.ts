/**
 * The byte-level layout shared by every file of the file driver:
 *
 *   file   = header frame*
 *   header = "TNDM" kind:u8 version:u8 0x00 0x00                 (8 bytes)
 *   frame  = length:u32le crc:u32le payload[length]               (crc = CRC-32 of length ‖ payload)
 *
 * A log holds one frame per group-commit write; snapshots, meta and alarm files hold exactly
 * one. The checksum covers the length field too, so a run of zeros (what a crash can leave
 * past the end of a file) never reads as a valid frame.
 *
 * Recovery rule (`scanFrames`): frames are written one at a time, each fsync'ed before the
 * next is written, so only the last frame of a log can be torn. The first bad frame is a torn
 * tail when no valid frame starts anywhere after it — the bytes from there to the end are
 * dropped; if a valid frame does follow, the damage is in the middle of acknowledged data
 * and the file is corrupt (never silently cut).
 */
import { crc32 } from "./crc32.ts";

export const FILE_HEADER_SIZE = 8;
export const FRAME_HEADER_SIZE = 8;
export const FORMAT_VERSION = 1;

export const FileKind = { log: 0x4c, snapshot: 0x53, meta: 0x4d, lease: 0x54, alarm: 0x41, journal: 0x4a } as const;
export type FileKind = keyof typeof FileKind;

const MAGIC = [0x54, 0x4e, 0x44, 0x4d]; // "TNDM"

export function fileHeader(kind: FileKind): Uint8Array {
  return Uint8Array.of(...MAGIC, FileKind[kind], FORMAT_VERSION, 0, 0);
}

/** Why `bytes` does not start with a header of `kind`, or null when it does. */
export function headerProblem(bytes: Uint8Array, kind: FileKind): string | null {
  if (bytes.length < FILE_HEADER_SIZE) return `file shorter than its ${FILE_HEADER_SIZE}-byte header`;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return "not a tandem file (bad magic)";
  if (bytes[4] !== FileKind[kind]) return `not a ${kind} file (kind byte ${bytes[4]})`;
  if (bytes[5] !== FORMAT_VERSION) return `unsupported format version ${bytes[5]} (this build reads ${FORMAT_VERSION})`;
  return null;
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}

/** One frame around `payload`, optionally preceded by a file header (for a new file). */
export function encodeFrame(payload: Uint8Array, header?: FileKind): Uint8Array {
  const start = header === undefined ? 0 : FILE_HEADER_SIZE;
  const out = new Uint8Array(start + FRAME_HEADER_SIZE + payload.length);
  if (header !== undefined) out.set(fileHeader(header), 0);
  writeU32(out, start, payload.length);
  out.set(payload, start + FRAME_HEADER_SIZE);
  writeU32(out, start + 4, crc32(payload, crc32(out.subarray(start, start + 4))));
  return out;
}

/** The end offset of the valid frame starting at `at`, or -1 (short, empty, or bad checksum). */
function frameEnd(bytes: Uint8Array, at: number): number {
  if (bytes.length - at < FRAME_HEADER_SIZE) return -1;
  const length = readU32(bytes, at);
  const end = at + FRAME_HEADER_SIZE + length;
  if (length === 0 || end > bytes.length) return -1;
  const crc = crc32(bytes.subarray(at + FRAME_HEADER_SIZE, end), crc32(bytes.subarray(at, at + 4)));
  return crc === readU32(bytes, at + 4) ? end : -1;
}

function whyBad(bytes: Uint8Array, at: number): string {
  if (bytes.length - at < FRAME_HEADER_SIZE) return "short frame header";
  const length = readU32(bytes, at);
  if (length === 0) return "zero-length frame";
  if (at + FRAME_HEADER_SIZE + length > bytes.length) return "short frame";
  return "checksum mismatch";
}

export type FrameScan =
  | { readonly kind: "ok"; readonly payloads: Uint8Array[]; readonly end: number }
  /** The tail from `end` on is dropped: a write that never completed (or was never fsync'ed). */
  | { readonly kind: "torn"; readonly payloads: Uint8Array[]; readonly end: number; readonly reason: string }
  /** A bad frame at `offset` with a valid frame after it: acknowledged data is damaged. */
  | { readonly kind: "corrupt"; readonly offset: number; readonly reason: string };

/** Reads the frames of `bytes` from `start` (after the file header), applying the recovery rule. */
export function scanFrames(bytes: Uint8Array, start = FILE_HEADER_SIZE): FrameScan {
  const payloads: Uint8Array[] = [];
  let at = start;
  while (at < bytes.length) {
    const end = frameEnd(bytes, at);
    if (end < 0) {
      const reason = whyBad(bytes, at);
      for (let probe = at + 1; probe + FRAME_HEADER_SIZE < bytes.length; probe++) {
        if (frameEnd(bytes, probe) >= 0) return { kind: "corrupt", offset: at, reason: `${reason} at byte ${at}, valid data follows at byte ${probe}` };
      }
      return { kind: "torn", payloads, end: at, reason: `${reason} at byte ${at}` };
    }
    payloads.push(bytes.subarray(at + FRAME_HEADER_SIZE, end));
    at = end;
  }
  return { kind: "ok", payloads, end: at };
}

/** The single payload of a header + one-frame file; a string says what is wrong with it. */
export function readSingleFrame(bytes: Uint8Array, kind: FileKind): Uint8Array | string {
  const problem = headerProblem(bytes, kind);
  if (problem !== null) return problem;
  const end = frameEnd(bytes, FILE_HEADER_SIZE);
  if (end < 0) return `${whyBad(bytes, FILE_HEADER_SIZE)} in ${kind} file`;
  if (end !== bytes.length) return `${bytes.length - end} unexpected bytes after the ${kind} frame`;
  return bytes.subarray(FILE_HEADER_SIZE + FRAME_HEADER_SIZE, end);
}

export { readU32, writeU32 };

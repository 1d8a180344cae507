/**
 * Binary encodings (lib0) of what the file driver stores: commits, snapshots, actor meta and
 * alarm index entries. Every decoder checks that it consumed its input exactly; any problem
 * throws, and the caller reports the file as corrupt.
 *
 *   batch    = count:varuint commit*                       (the payload of one log frame)
 *   commit   = flags:varuint [update:bytes] [privateState:any] [seqs] [put:schedules remove:strings] [alarm] [seqsRemoved:strings]
 *   snapshot = doc:bytes privateState:any seqs schedules alarm
 *   seqs     = count:varuint (clientId:string seq:any ok:u8 [at:f64] (value:any | code message group hasMeta:u8 [meta:any]))*
 *              ok: 1 value, 0 error; 3 and 2 the same with `at` (records of older data have none)
 *   schedule = id:string at:f64 action:string argc:varuint arg:any*
 *   alarm    = 0:u8 (none) | 1:u8 at:f64
 *   meta     = id:string name:string keyLength:varuint key:string* createdAt:f64
 *   entry    = meta-like id name key at:f64                 (the alarm index)
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { ERROR_GROUPS, type ErrorGroup, type WireError } from "../../../shared/errors.ts";
import type { ActorMeta, Alarm, Commit, ScheduleEntry, SeqRecord, Snapshot } from "../driver.ts";
import { readByte, readValue, writeValue } from "./values.ts";

const HAS_UPDATE = 1;
const HAS_PRIVATE_STATE = 2;
const HAS_SEQS = 4;
const HAS_SCHEDULES = 8;
const HAS_ALARM = 16;
const HAS_SEQS_REMOVED = 32;
const KNOWN_FLAGS = HAS_UPDATE | HAS_PRIVATE_STATE | HAS_SEQS | HAS_SCHEDULES | HAS_ALARM | HAS_SEQS_REMOVED;
/** A seq record's ok byte: +2 when its `at` follows. */
const WITH_AT = 2;

const GROUPS: ReadonlySet<string> = new Set<ErrorGroup>(ERROR_GROUPS);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// ---------------------------------------------------------------------------------------
// Pieces

function writeSeqs(encoder: encoding.Encoder, seqs: readonly SeqRecord[]): void {
  encoding.writeVarUint(encoder, seqs.length);
  for (const record of seqs) {
    encoding.writeVarString(encoder, record.clientId);
    writeValue(encoder, record.seq);
    const withAt = record.at !== undefined ? WITH_AT : 0;
    encoding.writeUint8(encoder, (record.result.ok ? 1 : 0) + withAt);
    if (record.at !== undefined) encoding.writeFloat64(encoder, record.at);
    if (record.result.ok) {
      writeValue(encoder, record.result.value);
    } else {
      const error = record.result.error;
      encoding.writeVarString(encoder, error.code);
      encoding.writeVarString(encoder, error.message);
      encoding.writeVarString(encoder, error.group);
      const hasMeta = "metadata" in error;
      encoding.writeUint8(encoder, hasMeta ? 1 : 0);
      if (hasMeta) writeValue(encoder, error.metadata);
    }
  }
}

function readSeqs(decoder: decoding.Decoder): SeqRecord[] {
  const count = decoding.readVarUint(decoder);
  const out: SeqRecord[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarString(decoder);
    const seq = readValue(decoder);
    if (typeof seq !== "number") throw new Error("a seq record's seq is not a number");
    const ok = readByte(decoder);
    if (ok > 3) throw new Error(`unknown seq record tag ${ok}`);
    const at = ok & WITH_AT ? { at: decoding.readFloat64(decoder) } : {};
    if ((ok & 1) === 1) {
      out.push({ clientId, seq, result: { ok: true, value: readValue(decoder) }, ...at });
    } else {
      const code = decoding.readVarString(decoder);
      const message = decoding.readVarString(decoder);
      const group = decoding.readVarString(decoder);
      if (!GROUPS.has(group)) throw new Error(`unknown error group "${group}"`);
      const error: WireError = { code, message, group: group as ErrorGroup };
      if (readByte(decoder) === 1) error.metadata = readValue(decoder);
      out.push({ clientId, seq, result: { ok: false, error }, ...at });
    }
  }
  return out;
}

function writeSchedule(encoder: encoding.Encoder, entry: ScheduleEntry): void {
  encoding.writeVarString(encoder, entry.id);
  encoding.writeFloat64(encoder, entry.at);
  encoding.writeVarString(encoder, entry.action);
  encoding.writeVarUint(encoder, entry.args.length);
  for (const arg of entry.args) writeValue(encoder, arg);
}

function readSchedule(decoder: decoding.Decoder): ScheduleEntry {
  const id = decoding.readVarString(decoder);
  const at = decoding.readFloat64(decoder);
  const action = decoding.readVarString(decoder);
  const argc = decoding.readVarUint(decoder);
  const args: unknown[] = [];
  for (let i = 0; i < argc; i++) args.push(readValue(decoder));
  return { id, at, action, args };
}

function writeSchedules(encoder: encoding.Encoder, entries: readonly ScheduleEntry[]): void {
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) writeSchedule(encoder, entry);
}

function readSchedules(decoder: decoding.Decoder): ScheduleEntry[] {
  const count = decoding.readVarUint(decoder);
  const out: ScheduleEntry[] = [];
  for (let i = 0; i < count; i++) out.push(readSchedule(decoder));
  return out;
}

function writeStrings(encoder: encoding.Encoder, strings: readonly string[]): void {
  encoding.writeVarUint(encoder, strings.length);
  for (const item of strings) encoding.writeVarString(encoder, item);
}

function readStrings(decoder: decoding.Decoder): string[] {
  const count = decoding.readVarUint(decoder);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(decoding.readVarString(decoder));
  return out;
}

function writeAlarm(encoder: encoding.Encoder, alarm: number | null): void {
  if (alarm === null) encoding.writeUint8(encoder, 0);
  else {
    encoding.writeUint8(encoder, 1);
    encoding.writeFloat64(encoder, alarm);
  }
}

function readAlarm(decoder: decoding.Decoder): number | null {
  const tag = readByte(decoder);
  if (tag === 0) return null;
  if (tag !== 1) throw new Error(`bad alarm tag ${tag}`);
  return decoding.readFloat64(decoder);
}

function decodeAll<T>(bytes: Uint8Array, read: (decoder: decoding.Decoder) => T): T {
  const decoder = decoding.createDecoder(bytes);
  const value = read(decoder);
  if (decoder.pos !== bytes.length) throw new Error(`${bytes.length - decoder.pos} unexpected trailing bytes`);
  return value;
}

// ---------------------------------------------------------------------------------------
// Commits

/** One commit, encoded (appended to a batch by `encodeBatch`). */
export function encodeCommit(commit: Commit): Uint8Array {
  const encoder = encoding.createEncoder();
  const hasPrivateState = "privateState" in commit;
  const flags =
    (commit.update !== undefined ? HAS_UPDATE : 0) |
    (hasPrivateState ? HAS_PRIVATE_STATE : 0) |
    (commit.seqs !== undefined ? HAS_SEQS : 0) |
    (commit.schedules !== undefined ? HAS_SCHEDULES : 0) |
    (commit.alarm !== undefined ? HAS_ALARM : 0) |
    (commit.seqsRemoved !== undefined ? HAS_SEQS_REMOVED : 0);
  encoding.writeVarUint(encoder, flags);
  if (commit.update !== undefined) encoding.writeVarUint8Array(encoder, commit.update);
  if (hasPrivateState) writeValue(encoder, commit.privateState);
  if (commit.seqs !== undefined) writeSeqs(encoder, commit.seqs);
  if (commit.schedules !== undefined) {
    writeSchedules(encoder, commit.schedules.put ?? []);
    writeStrings(encoder, commit.schedules.remove ?? []);
  }
  if (commit.alarm !== undefined) writeAlarm(encoder, commit.alarm);
  if (commit.seqsRemoved !== undefined) writeStrings(encoder, commit.seqsRemoved);
  return encoding.toUint8Array(encoder);
}

function readCommit(decoder: decoding.Decoder): Commit {
  const flags = decoding.readVarUint(decoder);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new Error(`unknown commit flags ${flags}`);
  const commit: Mutable<Commit> = {};
  if (flags & HAS_UPDATE) commit.update = decoding.readVarUint8Array(decoder);
  if (flags & HAS_PRIVATE_STATE) commit.privateState = readValue(decoder);
  if (flags & HAS_SEQS) commit.seqs = readSeqs(decoder);
  if (flags & HAS_SCHEDULES) commit.schedules = { put: readSchedules(decoder), remove: readStrings(decoder) };
  if (flags & HAS_ALARM) commit.alarm = readAlarm(decoder);
  if (flags & HAS_SEQS_REMOVED) commit.seqsRemoved = readStrings(decoder);
  return commit;
}

/** The payload of one log frame: commits already encoded by `encodeCommit`, in order. */
export function encodeBatch(commits: readonly Uint8Array[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, commits.length);
  for (const commit of commits) encoding.writeUint8Array(encoder, commit);
  return encoding.toUint8Array(encoder);
}

export function decodeBatch(bytes: Uint8Array): Commit[] {
  return decodeAll(bytes, (decoder) => {
    const count = decoding.readVarUint(decoder);
    if (count === 0) throw new Error("empty commit batch");
    const out: Commit[] = [];
    for (let i = 0; i < count; i++) out.push(readCommit(decoder));
    return out;
  });
}

// ---------------------------------------------------------------------------------------
// Snapshots, meta, alarm entries

export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint8Array(encoder, snapshot.doc);
  writeValue(encoder, snapshot.privateState);
  writeSeqs(encoder, snapshot.seqs);
  writeSchedules(encoder, snapshot.schedules);
  writeAlarm(encoder, snapshot.alarm);
  return encoding.toUint8Array(encoder);
}

export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  return decodeAll(bytes, (decoder) => ({
    doc: decoding.readVarUint8Array(decoder),
    privateState: readValue(decoder),
    seqs: readSeqs(decoder),
    schedules: readSchedules(decoder),
    alarm: readAlarm(decoder),
  }));
}

export function encodeMeta(meta: ActorMeta): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, meta.id);
  encoding.writeVarString(encoder, meta.name);
  writeStrings(encoder, meta.key);
  encoding.writeFloat64(encoder, meta.createdAt);
  return encoding.toUint8Array(encoder);
}

export function decodeMeta(bytes: Uint8Array): ActorMeta {
  return decodeAll(bytes, (decoder) => ({
    id: decoding.readVarString(decoder),
    name: decoding.readVarString(decoder),
    key: readStrings(decoder),
    createdAt: decoding.readFloat64(decoder),
  }));
}

export function encodeAlarmEntry(alarm: Alarm): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, alarm.id);
  encoding.writeVarString(encoder, alarm.name);
  writeStrings(encoder, alarm.key);
  encoding.writeFloat64(encoder, alarm.at);
  return encoding.toUint8Array(encoder);
}

export function decodeAlarmEntry(bytes: Uint8Array): Alarm {
  return decodeAll(bytes, (decoder) => ({
    id: decoding.readVarString(decoder),
    name: decoding.readVarString(decoder),
    key: readStrings(decoder),
    at: decoding.readFloat64(decoder),
  }));
}

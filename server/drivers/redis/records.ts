/**
 * The byte values the Redis driver stores, built on the file driver's codec (commits,
 * snapshots, meta) and frame (length + CRC-32): one frame per Redis value, so a value cut
 * short or altered reads as corrupt instead of as other data.
 *
 *   commit record   = frame(token:varuint batch-of-one-commit)     (an element of log:{id})
 *   snapshot record = frame(token:varuint snapshot)                 (snap:{id})
 *   meta record     = frame(meta)                                   (meta:{id})
 *
 * Each commit and snapshot carries the fencing token of the lease that wrote it, so the log
 * itself shows which owner wrote what ("no two owners ever commit" is checkable).
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import type { ActorMeta, Commit, Snapshot } from "../driver.ts";
import { decodeBatch, decodeMeta, decodeSnapshot, encodeBatch, encodeCommit, encodeMeta, encodeSnapshot } from "../file/codec.ts";
import { encodeFrame, scanFrames } from "../file/format.ts";

export interface TokenedRecord<T> {
  readonly token: number;
  readonly value: T;
}

function withToken(token: number, body: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, token);
  encoding.writeUint8Array(encoder, body);
  return encodeFrame(encoding.toUint8Array(encoder));
}

/** The one payload of a framed value; throws (the caller reports corruption) otherwise. */
function unframe(bytes: Uint8Array): Uint8Array {
  const scan = scanFrames(bytes, 0);
  if (scan.kind !== "ok") throw new Error(scan.reason);
  if (scan.payloads.length !== 1) throw new Error(`${scan.payloads.length} frames in one value`);
  return scan.payloads[0]!;
}

function splitToken(bytes: Uint8Array): { token: number; body: Uint8Array } {
  const payload = unframe(bytes);
  const decoder = decoding.createDecoder(payload);
  const token = decoding.readVarUint(decoder);
  return { token, body: payload.subarray(decoder.pos) };
}

export function encodeCommitRecord(token: number, commit: Commit): Uint8Array {
  return withToken(token, encodeBatch([encodeCommit(commit)]));
}

export function decodeCommitRecord(bytes: Uint8Array): TokenedRecord<Commit> {
  const { token, body } = splitToken(bytes);
  const commits = decodeBatch(body);
  if (commits.length !== 1) throw new Error(`${commits.length} commits in one record`);
  return { token, value: commits[0]! };
}

export function encodeSnapshotRecord(token: number, snapshot: Snapshot): Uint8Array {
  return withToken(token, encodeSnapshot(snapshot));
}

export function decodeSnapshotRecord(bytes: Uint8Array): TokenedRecord<Snapshot> {
  const { token, body } = splitToken(bytes);
  return { token, value: decodeSnapshot(body) };
}

export function encodeMetaRecord(meta: ActorMeta): Uint8Array {
  return encodeFrame(encodeMeta(meta));
}

export function decodeMetaRecord(bytes: Uint8Array): ActorMeta {
  return decodeMeta(unframe(bytes));
}

/**
 * batch (down, protocol 2): the frames a server sends a socket in one event-loop turn, in
 * one WebSocket message — `kind channel(0) (length:varuint frame)*` up to the message's end.
 * The receiver pays one message's work (ws parsing, an event, a copy) instead of one per
 * frame: a turn with many acks or events costs the client a fraction of what it did. A
 * server sends batches only to clients whose hello says version 2 or more; a batch never
 * holds a batch.
 */
import * as decoding from "lib0/decoding";
import { malformedFrame } from "./errors.ts";
import { Kind } from "./kinds.ts";
import { readLength, readUint } from "./value.ts";

function varUintLength(n: number): number {
  let length = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 128);
    length++;
  }
  return length;
}

function writeVarUint(target: Uint8Array, at: number, n: number): number {
  while (n > 0x7f) {
    target[at++] = 0x80 | (n & 0x7f);
    n = Math.floor(n / 128);
  }
  target[at++] = n;
  return at;
}

/** Bytes of the batch of `frames`. */
export function batchLength(frames: readonly Uint8Array[]): number {
  let total = 2; // kind, channel 0
  for (const frame of frames) total += varUintLength(frame.length) + frame.length;
  return total;
}

/** Writes the batch of `frames` into `target` at `at`; returns where it ends. */
export function writeBatch(target: Uint8Array, at: number, frames: readonly Uint8Array[]): number {
  target[at++] = Kind.batch;
  target[at++] = 0;
  for (const frame of frames) {
    at = writeVarUint(target, at, frame.length);
    target.set(frame, at);
    at += frame.length;
  }
  return at;
}

export function encodeBatch(frames: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(batchLength(frames));
  writeBatch(out, 0, frames);
  return out;
}

/** Whether `bytes` is a batch (its first varuint is the batch kind). */
export function isBatch(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === Kind.batch;
}

/**
 * The frames of a batch, as views into `bytes` (the caller owns them: copy first if the
 * buffer is not yours). Lengths are checked against the message; an empty frame or a
 * batch inside the batch is malformed.
 */
export function unbatch(bytes: Uint8Array): Uint8Array[] {
  const decoder = decoding.createDecoder(bytes);
  const frames: Uint8Array[] = [];
  if (readUint(decoder) !== Kind.batch) throw malformedFrame("not a batch");
  if (readUint(decoder) !== 0) throw malformedFrame("a batch travels on channel 0");
  while (decoder.pos < bytes.length) {
    const length = readLength(decoder);
    if (length === 0) throw malformedFrame("an empty frame in a batch");
    if (bytes[decoder.pos] === Kind.batch) throw malformedFrame("a batch inside a batch");
    frames.push(bytes.subarray(decoder.pos, decoder.pos + length));
    decoder.pos += length;
  }
  return frames;
}

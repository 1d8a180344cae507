/**
 * The y-protocols awareness update carried by an `awareness` frame (PROTOCOL.md): varuint
 * count, then per state varuint clientID, varuint clock, varstring JSON (the string "null"
 * removes the state). Read with the protocol's bounded readers: a short or overlong update is
 * a `MalformedFrame`, never a read past the end.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { readLength, readString, readUint } from "./value.ts";

/** One state of an awareness update, its JSON as sent. */
export interface AwarenessEntry {
  readonly clientID: number;
  readonly clock: number;
  readonly json: string;
}

/** The number of states that follow (at most what the bytes left could hold). */
export function readAwarenessCount(decoder: decoding.Decoder): number {
  return readLength(decoder);
}

export function readAwarenessEntry(decoder: decoding.Decoder): AwarenessEntry {
  const clientID = readUint(decoder);
  const clock = readUint(decoder);
  return { clientID, clock, json: readString(decoder) };
}

/** A whole update, every state of it. */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update);
  const entries: AwarenessEntry[] = [];
  for (let count = readAwarenessCount(decoder); count > 0; count--) entries.push(readAwarenessEntry(decoder));
  return entries;
}

export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const { clientID, clock, json } of entries) {
    encoding.writeVarUint(encoder, clientID);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, json);
  }
  return encoding.toUint8Array(encoder);
}

/** An awareness update without the states of `excluded` (null when nothing is left). */
export function withoutClients(update: Uint8Array, excluded: ReadonlySet<number>): Uint8Array | null {
  const entries = decodeAwarenessUpdate(update);
  const kept = entries.filter((entry) => !excluded.has(entry.clientID));
  if (kept.length === entries.length) return update;
  if (kept.length === 0) return null;
  return encodeAwarenessUpdate(kept);
}

/**
 * y-protocols awareness updates by hand, for tests that send what no well-behaved client
 * would: encode a list of (client id, clock, JSON text), decode one (or tell it is malformed).
 * Format: varuint count, then per state: varuint clientID, varuint clock, varstring JSON.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";

export interface AwarenessEntry {
  readonly clientId: number;
  readonly clock: number;
  /** The state as JSON text ("null" removes it). */
  readonly json: string;
}

export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const { clientId, clock, json } of entries) {
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, json);
  }
  return encoding.toUint8Array(encoder);
}

/** The entries of an update, or null if it does not decode exactly (truncated, trailing bytes). */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] | null {
  try {
    const decoder = decoding.createDecoder(update);
    const entries: AwarenessEntry[] = [];
    for (let count = decoding.readVarUint(decoder); count > 0; count--) {
      const clientId = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const json = decoding.readVarString(decoder);
      entries.push({ clientId, clock, json });
    }
    return decoder.pos === update.length ? entries : null;
  } catch {
    return null;
  }
}

/** Whether every entry's JSON is an object or null (what a server may accept as a state). */
export function allStatesWellFormed(entries: readonly AwarenessEntry[]): boolean {
  return entries.every(({ json }) => {
    try {
      const state: unknown = JSON.parse(json);
      return state === null || (typeof state === "object" && !Array.isArray(state));
    } catch {
      return false;
    }
  });
}

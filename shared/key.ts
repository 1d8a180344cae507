/**
 * Compound actor keys. A key is a string or an array of strings; a string is the same key
 * as the one-element array holding it. Parts are kept apart by encoding the array as JSON,
 * so `["a","b"]`, `["a/b"]` and `"a,b"` are three different actors and no part can inject
 * a separator into another.
 * @public
 */
import { InvalidArguments } from "./errors.ts";

export type ActorKey = string | readonly string[];

/** Longest accepted key, in UTF-16 units once encoded: keys travel in headers. */
export const MAX_KEY_LENGTH = 1024;

/** The canonical form of a key: always an array of strings. Throws `invalid_arguments`. */
export function normalizeKey(key: unknown): string[] {
  if (key === undefined) return [];
  const parts = typeof key === "string" ? [key] : key;
  if (!Array.isArray(parts)) {
    throw new InvalidArguments("An actor key must be a string or an array of strings");
  }
  for (const part of parts) {
    if (typeof part !== "string") {
      throw new InvalidArguments("Every part of an actor key must be a string");
    }
    // A lone surrogate has no UTF-8 form: stored, it would come back as U+FFFD — another key
    // (another actor id), so the actor could not be found again, nor woken by its alarm.
    if (!isWellFormed(part)) {
      throw new InvalidArguments("Every part of an actor key must be well-formed Unicode (no lone surrogates)");
    }
  }
  const copy = [...(parts as string[])];
  if (encodeKey(copy).length > MAX_KEY_LENGTH) {
    throw new InvalidArguments(`An actor key may not exceed ${MAX_KEY_LENGTH} characters`);
  }
  return copy;
}

const LONE_SURROGATE = /\p{Surrogate}/u;

/** `String.prototype.isWellFormed` (ES2024), where the runtime lacks it. */
function isWellFormed(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  return native !== undefined ? native.call(text) : !LONE_SURROGATE.test(text);
}

/** One string per distinct key (injective): the JSON array of its parts. */
export function encodeKey(parts: readonly string[]): string {
  return JSON.stringify(parts);
}

/** Inverse of `encodeKey`; throws `invalid_arguments` on anything it did not produce. */
export function decodeKey(encoded: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(encoded);
  } catch {
    throw new InvalidArguments("Malformed actor key");
  }
  return normalizeKey(parsed);
}

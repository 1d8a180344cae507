/**
 * `memoryStorage()`: the storage contract in memory (Node, tests, and the fallback). @public
 *
 * Values are copies both ways, as IndexedDB's are: what a caller changes after a write, or in
 * what it read, never reaches what is stored. Byte arrays (the replica's updates, most of
 * what is written) are copied with `slice` — far cheaper than `structuredClone`, and a view
 * into a larger buffer (a decoded frame) does not keep that buffer alive; plain records are
 * copied by hand, anything else by `structuredClone`.
 */
import { type ClientStorage, PREFIX_END } from "./storage.ts";

/** Nesting beyond which plain copying hands over to structuredClone (which has no limit). */
const PLAIN_DEPTH = 32;

function copy(value: unknown): unknown {
  const plain = copyPlain(value, 0);
  return plain === NOT_PLAIN ? structuredClone(value) : plain;
}

const NOT_PLAIN = Symbol("not plain");

/**
 * Records (outbox entries: name, args, seq) are JSON-like: copied by hand, several times
 * faster than structuredClone. Anything else — a Date, a Map, a cycle, a class instance, a
 * sparse array — answers NOT_PLAIN and the whole value goes through structuredClone.
 */
function copyPlain(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null) return typeof value === "function" || typeof value === "symbol" ? NOT_PLAIN : value;
  if (depth > PLAIN_DEPTH) return NOT_PLAIN;
  if (value instanceof Uint8Array && value.constructor === Uint8Array) return value.slice();
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return NOT_PLAIN;
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return NOT_PLAIN;
      const item = copyPlain(value[i], depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      out[i] = item;
    }
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = copyPlain((value as Record<string, unknown>)[key], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    // defineProperty: a "__proto__" key stays an own key, as structuredClone keeps it.
    if (key === "__proto__") Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    else out[key] = item;
  }
  return out;
}

export function memoryStorage(): ClientStorage {
  const data = new Map<string, unknown>();
  return {
    kind: "memory",
    async get(key) {
      return data.has(key) ? copy(data.get(key)) : undefined;
    },
    async list(prefix) {
      const end = prefix + PREFIX_END;
      return [...data.entries()]
        .filter(([key]) => key >= prefix && key < end)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => [key, copy(value)]);
    },
    async batch(puts, deletes = []) {
      const copies = puts.map(([key, value]) => [key, copy(value)] as const);
      for (const key of deletes) data.delete(key);
      for (const [key, value] of copies) data.set(key, value);
    },
    async clear(prefix) {
      for (const key of [...data.keys()]) if (key.startsWith(prefix)) data.delete(key);
    },
  };
}

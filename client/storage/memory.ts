/**
 * `memoryStorage()`: the storage contract in memory (Node, tests, and the fallback). @public
 *
 * Values are copies both ways, as IndexedDB's are: what a caller changes after a write, or in
 * what it read, never reaches what is stored. Byte arrays (the replica's updates, most of
 * what is written) are copied with `slice` — far cheaper than `structuredClone`, and a view
 * into a larger buffer (a decoded frame) does not keep that buffer alive.
 */
import { type ClientStorage, PREFIX_END } from "./storage.ts";

function copy(value: unknown): unknown {
  return value instanceof Uint8Array && value.constructor === Uint8Array ? value.slice() : structuredClone(value);
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

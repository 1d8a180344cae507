/** `memoryStorage()`: the storage contract in memory (Node, tests, and the fallback). @public */
import { type ClientStorage, PREFIX_END } from "./storage.ts";

export function memoryStorage(): ClientStorage {
  const data = new Map<string, unknown>();
  return {
    kind: "memory",
    async get(key) {
      return data.has(key) ? structuredClone(data.get(key)) : undefined;
    },
    async list(prefix) {
      const end = prefix + PREFIX_END;
      return [...data.entries()]
        .filter(([key]) => key >= prefix && key < end)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => [key, structuredClone(value)]);
    },
    async batch(puts, deletes = []) {
      const copies = puts.map(([key, value]) => [key, structuredClone(value)] as const);
      for (const key of deletes) data.delete(key);
      for (const [key, value] of copies) data.set(key, value);
    },
    async clear(prefix) {
      for (const key of [...data.keys()]) if (key.startsWith(prefix)) data.delete(key);
    },
  };
}

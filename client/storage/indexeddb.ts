/**
 * `indexedDbStorage(name)`: the storage contract over IndexedDB, through idb-keyval's custom
 * stores (one database, one object store). A batch is one readwrite transaction, so it is
 * atomic; ranges use IDBKeyRange over string keys. @public
 */
import { createStore, promisifyRequest, type UseStore } from "idb-keyval";
import { type ClientStorage, PREFIX_END } from "./storage.ts";

export function indexedDbStorage(name = "tandem"): ClientStorage {
  const store: UseStore = createStore(name, "kv");
  const range = (prefix: string) => IDBKeyRange.bound(prefix, prefix + PREFIX_END, false, true);
  return {
    kind: "indexeddb",
    shared: name,
    get(key) {
      return store("readonly", (s) => promisifyRequest(s.get(key)));
    },
    list(prefix) {
      return store("readonly", async (s) => {
        const [keys, values] = await Promise.all([promisifyRequest(s.getAllKeys(range(prefix))), promisifyRequest(s.getAll(range(prefix)))]);
        return keys.map((key, i) => [String(key), values[i]] as [string, unknown]);
      });
    },
    batch(puts, deletes = []) {
      return store("readwrite", (s) => {
        try {
          for (const key of deletes) s.delete(key);
          for (const [key, value] of puts) s.put(value, key);
        } catch (error) {
          s.transaction.abort(); // a value that cannot be stored: nothing of the batch is
          throw error;
        }
        return promisifyRequest(s.transaction);
      });
    },
    clear(prefix) {
      return store("readwrite", (s) => {
        s.delete(range(prefix));
        return promisifyRequest(s.transaction);
      });
    },
  };
}

/** True where IndexedDB can be used (browsers; not Node, not some private modes). */
export function hasIndexedDb(): boolean {
  return typeof indexedDB !== "undefined" && indexedDB !== null;
}

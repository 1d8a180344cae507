/**
 * The client's storage contract: a small ordered key-value store with atomic batches.
 * Implementations: IndexedDB (idb-keyval) in browsers, memory in Node and as the fallback
 * when IndexedDB fails. Keys are strings; values are structured-clonable (Uint8Array included).
 */
export interface ClientStorage {
  /** "indexeddb" or "memory" (for status and tests). */
  readonly kind: string;
  /** Names a storage shared by the tabs of an origin (IndexedDB's database name). */
  readonly shared?: string;
  get(key: string): Promise<unknown>;
  /** Every entry whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<[string, unknown][]>;
  /** Writes and deletes atomically: all of them or none. */
  batch(puts: readonly (readonly [string, unknown])[], deletes?: readonly string[]): Promise<void>;
  /** Deletes every key that starts with `prefix`. */
  clear(prefix: string): Promise<void>;
  close?(): void;
}

/** The end of a key range that holds every key starting with `prefix`. */
export const PREFIX_END = "\uffff";

/** A storage failure (quota, private mode, corrupted data), as the client reports it. */
export class StorageFault extends Error {
  constructor(
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    super(`Local storage failed during ${operation}: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
    this.name = "StorageFault";
  }

  /** Quota exceeded (the browser's storage is full). */
  get isQuota(): boolean {
    return this.cause instanceof Error && (this.cause.name === "QuotaExceededError" || /quota/i.test(this.cause.message));
  }
}

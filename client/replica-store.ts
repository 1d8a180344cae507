/**
 * What one replica keeps in client storage, kept apart by what the server has confirmed:
 *
 *   r:<rid>:s            snapshot of the confirmed doc (compaction)
 *   r:<rid>:u:<n>-<rnd>  confirmed updates since the snapshot, in order
 *   r:<rid>:e:<n>-<rnd>  direct edits not yet confirmed, in order
 *   r:<rid>:o:<seq>      outbox: actions not yet confirmed, by seq
 *
 * Keys are append-only with a random suffix, so two writers never overwrite each other.
 * Writes run one after another; a storage failure is reported once and the replica carries
 * on in memory (what is already stored, the outbox included, stays intact).
 *
 * Writes made while the one before is still waiting to run go into one storage batch (an
 * ack's update and the next action's record, or everything a slow IndexedDB transaction
 * kept waiting): later writes of a key win, as if the batches ran one after another.
 */
import type { ClientStorage } from "./storage/storage.ts";
import { StorageFault } from "./storage/storage.ts";

export interface OutboxRecord {
  readonly seq: number;
  readonly name: string;
  readonly args: readonly unknown[];
  readonly createdAt: number;
  /** The call's id across tabs (absent in records of older versions). */
  readonly callId?: string;
}

export interface StoredEdit {
  readonly key: string;
  readonly update: Uint8Array;
}

export interface LoadedReplica {
  /** Snapshot first, then updates, in order. */
  readonly confirmed: Uint8Array[];
  readonly edits: StoredEdit[];
  readonly outbox: OutboxRecord[];
}

/** Confirmed updates kept one by one before they are compacted into the snapshot. */
export const COMPACT_AFTER = 200;

const pad = (n: number) => String(n).padStart(12, "0");
const suffix = () => Math.random().toString(36).slice(2, 8);

/** Writes not started yet, merged into one storage batch (which deletes first, then puts). */
interface OpenBatch {
  puts: [string, unknown][];
  readonly deletes: string[];
  readonly done: Promise<void>;
}

export class ReplicaStore {
  private chain: Promise<void> = Promise.resolve();
  /** The batch later writes join, until it starts (null: the next write opens one). */
  private open: OpenBatch | null = null;
  private updateIndex = 0;
  private editIndex = 0;
  private updateKeys: string[] = [];
  private degraded = false;

  constructor(
    private readonly storage: ClientStorage,
    private readonly rid: string,
    private readonly onFault: (fault: StorageFault) => void,
  ) {}

  private key(kind: string, rest = ""): string {
    return `r:${this.rid}:${kind}${rest}`;
  }

  /** True once a write failed: the replica lives in memory from then on. */
  get inMemory(): boolean {
    return this.degraded;
  }

  /**
   * Everything stored for this replica. Records that are not what they should be are
   * reported and left out (the server refills the replica; the outbox is kept).
   */
  async load(): Promise<LoadedReplica> {
    // loaded again when a follower tab takes over: start over from what storage holds
    this.updateKeys = [];
    this.updateIndex = 0;
    this.editIndex = 0;
    let entries: [string, unknown][];
    try {
      entries = await this.storage.list(this.key(""));
    } catch (error) {
      this.fault("load", error);
      return { confirmed: [], edits: [], outbox: [] };
    }
    const confirmed: Uint8Array[] = [];
    const edits: StoredEdit[] = [];
    const outbox: OutboxRecord[] = [];
    let corrupt = false;
    for (const [key, value] of entries) {
      const kind = key.slice(this.key("").length, this.key("").length + 1);
      if (kind === "s" || kind === "u") {
        if (!(value instanceof Uint8Array)) corrupt = true;
        else if (kind === "s") confirmed.unshift(value);
        else {
          confirmed.push(value);
          this.updateKeys.push(key);
          this.updateIndex = Math.max(this.updateIndex, Number(key.split(":").pop()!.split("-")[0]) + 1 || 0);
        }
      } else if (kind === "e") {
        if (value instanceof Uint8Array) edits.push({ key, update: value });
        else corrupt = true;
        this.editIndex = Math.max(this.editIndex, Number(key.split(":").pop()!.split("-")[0]) + 1 || 0);
      } else if (kind === "o") {
        const record = value as OutboxRecord;
        if (typeof record?.seq === "number" && typeof record.name === "string" && Array.isArray(record.args)) outbox.push(record);
        else corrupt = true;
      }
    }
    outbox.sort((a, b) => a.seq - b.seq);
    if (corrupt) {
      await this.discardDocument("load", new Error("a stored record of the replica is corrupted"));
      return { confirmed: [], edits: [], outbox };
    }
    return { confirmed, edits, outbox };
  }

  /**
   * The stored document cannot be trusted: report it, forget it (the server sends it all
   * again), keep the outbox — actions do not depend on the local copy.
   */
  async discardDocument(operation: string, error: unknown): Promise<void> {
    this.onFault(new StorageFault(operation, error));
    await this.clear(true);
  }

  /** The confirmed doc's update (an ack's, an accepted edit's, a sync's), with what it settles. */
  confirmed(update: Uint8Array, settles: { outboxSeq?: number; editKey?: string } = {}): void {
    if (update.length === 0 && settles.outboxSeq === undefined && settles.editKey === undefined) return;
    const deletes: string[] = [];
    if (settles.outboxSeq !== undefined) deletes.push(this.key("o:", pad(settles.outboxSeq)));
    if (settles.editKey !== undefined) deletes.push(settles.editKey);
    const puts: [string, unknown][] = [];
    if (update.length > 0) {
      const key = this.key("u:", `${pad(this.updateIndex++)}-${suffix()}`);
      this.updateKeys.push(key);
      puts.push([key, update]);
    }
    this.write("save", puts, deletes);
  }

  /** Replaces the stored updates by one snapshot of the confirmed doc. */
  compact(snapshot: Uint8Array): void {
    const deletes = this.updateKeys.splice(0);
    this.write("compact", [[this.key("s"), snapshot]], deletes);
  }

  get updatesSinceSnapshot(): number {
    return this.updateKeys.length;
  }

  addEdit(update: Uint8Array): string {
    const key = this.key("e:", `${pad(this.editIndex++)}-${suffix()}`);
    this.write("save an edit", [[key, update]]);
    return key;
  }

  dropEdits(keys: readonly string[]): void {
    if (keys.length > 0) this.write("drop edits", [], [...keys]);
  }

  /** Stores an action before it is sent; resolves once it is stored (or storage failed). */
  addAction(record: OutboxRecord): Promise<void> {
    return this.write("save an action", [[this.key("o:", pad(record.seq)), record]]);
  }

  dropAction(seq: number): void {
    this.write("drop an action", [], [this.key("o:", pad(seq))]);
  }

  /** Forgets the replica's document and edits (a reset, or corrupted data); keeps the outbox if asked. */
  clear(keepOutbox: boolean): Promise<void> {
    this.updateKeys = [];
    this.open = null; // writes after the reset are not merged into one before it
    return this.enqueue("reset", async () => {
      await this.storage.clear(this.key("s"));
      await this.storage.clear(this.key("u:"));
      await this.storage.clear(this.key("e:"));
      if (!keepOutbox) await this.storage.clear(this.key("o:"));
    });
  }

  /** Resolves when every write so far is done. */
  flushed(): Promise<void> {
    return this.chain;
  }

  /** Queues a write (its arrays are the store's from now on); resolves once it is done. */
  private write(operation: string, puts: [string, unknown][], deletes: string[] = []): Promise<void> {
    const batch = this.open;
    if (batch !== null) {
      // A later delete cancels an earlier put of the same key; a later put wins over an earlier delete.
      if (deletes.length > 0 && batch.puts.length > 0) {
        const deleted = new Set(deletes);
        batch.puts = batch.puts.filter(([key]) => !deleted.has(key));
      }
      batch.deletes.push(...deletes);
      batch.puts.push(...puts);
      return batch.done;
    }
    const opened: { puts: [string, unknown][]; deletes: string[]; done?: Promise<void> } = { puts, deletes };
    opened.done = this.enqueue(
      operation,
      () => this.storage.batch(opened.puts, opened.deletes),
      () => {
        if (this.open === opened) this.open = null; // it starts: later writes make a batch of their own
      },
    );
    this.open = opened as OpenBatch;
    return opened.done;
  }

  private enqueue(operation: string, run: () => Promise<void>, starting?: () => void): Promise<void> {
    const next = this.chain.then(() => {
      starting?.();
      if (this.degraded) return;
      try {
        return run().then(undefined, (error: unknown) => this.fault(operation, error));
      } catch (error) {
        this.fault(operation, error);
      }
    });
    this.chain = next;
    return next;
  }

  private fault(operation: string, error: unknown): void {
    const first = !this.degraded;
    this.degraded = true;
    if (first) this.onFault(new StorageFault(operation, error));
  }
}

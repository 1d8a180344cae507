/**
 * Sync progress of one subscription, as `conn.progress` / `conn.onProgress` report it. What
 * is measured, honestly:
 * - "load": the replica is being read from storage (IndexedDB or memory). Storage gives the
 *   whole replica in one read, so this phase has no steps: 0 of 1 read, then it ends.
 * - "sync": subscribe sent, the server's state (sync step 2) not yet in. The server sends it
 *   as ONE frame, so its download cannot be followed byte by byte: `total` is null until the
 *   frame arrived, then `done` = `total` = the bytes of the state update it carried.
 * - "flush": caught up with actions or direct edits waiting (an offline session's outbox):
 *   `done` = changes answered (or discarded) since the flush began, `total` = `done` + what is still
 *   unanswered (actions called during the flush raise it). Counted over this tab's own actions
 *   and edits (a follower tab's are answered through the leader). Ends when nothing is pending.
 * Null when none of these is under way. Nothing is computed unless someone listens or reads.
 */
export interface SyncProgress {
  readonly phase: "load" | "sync" | "flush";
  /** "reads" for load, "bytes" for sync, "changes" (actions and direct edits) for flush. */
  readonly unit: "reads" | "bytes" | "changes";
  readonly done: number;
  /** Null while unknown (the sync frame not in yet). */
  readonly total: number | null;
}

/** Keeps the current phase and says when it changed (a listener is called only on change). */
export class SyncProgressTracker {
  private current: SyncProgress | null = null;
  /** The flush's total so far, and what was pending when last told. */
  private flushTotal = 0;
  private flushPending = 0;

  constructor(private readonly changed: (progress: SyncProgress | null) => void) {}

  get progress(): SyncProgress | null {
    return this.current;
  }

  /** A flush is under way (answers count). */
  get flushing(): boolean {
    return this.current?.phase === "flush";
  }

  loading(): void {
    this.set({ phase: "load", unit: "reads", done: 0, total: 1 });
  }

  loaded(): void {
    if (this.current?.phase === "load") this.set(null);
  }

  /** Subscribe sent: the server's state is awaited. */
  syncing(): void {
    this.set({ phase: "sync", unit: "bytes", done: 0, total: null });
  }

  /** The server's state arrived (bytes of the update). */
  synced(bytes: number): void {
    if (this.current?.phase === "sync") this.set({ phase: "sync", unit: "bytes", done: bytes, total: bytes });
  }

  /** Caught up: a flush begins if anything of this tab's is pending; the phase ends otherwise. */
  caughtUp(pending: number): void {
    this.flushTotal = pending;
    this.flushPending = pending;
    this.set(pending > 0 ? { phase: "flush", unit: "changes", done: 0, total: pending } : null);
  }

  /**
   * What is still pending now (during a flush; cheap to call when none is under way): what
   * left counts as done, what was added raises the total. Idempotent: any caller may ask.
   */
  update(pending: number): void {
    if (this.current?.phase !== "flush") return;
    if (pending > this.flushPending) this.flushTotal += pending - this.flushPending;
    this.flushPending = pending;
    this.set(pending > 0 ? { phase: "flush", unit: "changes", done: this.flushTotal - pending, total: this.flushTotal } : null);
  }

  /** The link went down, or the subscription ended: whatever was under way stops. */
  stopped(): void {
    this.set(null);
  }

  private set(next: SyncProgress | null): void {
    const current = this.current;
    if (current === next) return;
    if (current !== null && next !== null && current.phase === next.phase && current.done === next.done && current.total === next.total) return;
    this.current = next;
    this.changed(next);
  }
}

/**
 * Sync progress of one subscription, as `conn.progress` / `conn.onProgress` report it. What
 * is measured, honestly:
 * - "load": the replica is being read from storage (IndexedDB or memory). Storage gives the
 *   whole replica in one read, so this phase has no steps: 0 of 1 read, then it ends.
 * - "sync": subscribe sent, the server's state (sync step 2) not yet in. The server sends it
 *   as ONE frame, so its download cannot be followed byte by byte: `total` is null until the
 *   frame arrived, then `done` = `total` = the bytes of the state update it carried.
 * - "flush": caught up with actions or direct edits waiting (an offline session's outbox):
 *   `done` = answers received since the flush began, `total` = `done` + what is still
 *   unanswered (actions called during the flush raise it). It ends when nothing is pending.
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
  /** Answers received since the flush began. */
  private answered = 0;

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

  /** Caught up: a flush begins if anything is pending; the phase ends otherwise. */
  caughtUp(pending: number): void {
    this.answered = 0;
    this.set(pending > 0 ? { phase: "flush", unit: "changes", done: 0, total: pending } : null);
  }

  /** An action or an edit was answered; `pending` is what is still unanswered. Cheap when no flush is under way. */
  answer(pending: number): void {
    if (this.current?.phase !== "flush") return;
    this.answered++;
    this.set(pending > 0 ? { phase: "flush", unit: "changes", done: this.answered, total: this.answered + pending } : null);
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

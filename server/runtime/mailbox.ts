/**
 * An actor's mailbox: actions, direct edits, schedules and lifecycle hooks run one at a
 * time, in arrival order, each to completion (awaits included) before the next starts.
 * This is what lets an action's draft be replayed into the document by index: nothing else
 * can change the document while an action runs.
 */
export class Mailbox {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private closed = false;

  /** Tasks queued or running. */
  get size(): number {
    return this.queued;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `task` after every task enqueued before it; resolves or rejects with its outcome. */
  enqueue<T>(task: () => Promise<T> | T): Promise<T> {
    this.queued++;
    const run = this.tail.then(async () => {
      try {
        return await task();
      } finally {
        this.queued--;
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Refuses new work from now on (`enqueue` still works for the runtime's own last tasks). */
  close(): void {
    this.closed = true;
  }

  /** Resolves once every task enqueued so far has finished. */
  drain(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

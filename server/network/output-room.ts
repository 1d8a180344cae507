/**
 * Read backpressure for one socket. A peer that stops reading must not be able to make the
 * server build more for it: each subscribe or step 1 may be answered with a whole document,
 * and forty of them sent at once by a client that never reads would queue forty documents.
 *
 * - `full` says when the peer has READ_PAUSE_BYTES or more not yet taken: the socket then
 *   reads no further frames until it drains (socket-session.ts).
 * - `room()` is what a channel awaits before it sends a document: it resolves at once while
 *   the peer keeps up, else when it has drained — one waiter at a time, in order, so that
 *   subscribes already read do not all send their documents into a full queue together.
 *
 * Checked by polling (every OUTPUT_RECHECK_MS while someone waits): a write the kernel took
 * whole fires no 'drain' event to wait for. `close()` releases every waiter (the socket is
 * gone; each checks that itself).
 */

/** Bytes not yet taken by the peer above which a socket reads nothing more until it drains. */
export const READ_PAUSE_BYTES = 1024 * 1024;
/** How often waiters check whether the peer drained, in ms. */
export const OUTPUT_RECHECK_MS = 20;

export class OutputRoom {
  private readonly waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(
    /** Bytes queued to the peer and not yet taken by the kernel. */
    private readonly queued: () => number,
  ) {}

  /** Whether the peer has too much not yet taken. */
  get full(): boolean {
    return this.queued() >= READ_PAUSE_BYTES;
  }

  /** Resolves when there is room for a large answer (at once, while the peer keeps up). */
  room(): Promise<void> {
    if (this.closed || (this.waiters.length === 0 && !this.full)) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.watch(false);
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /**
   * Lets the first waiter go when there is room. Right after one went (its document is sent in
   * the continuation, before the next check), the next check comes at once; else after a pause.
   */
  private watch(soon: boolean): void {
    if (this.timer !== null || this.immediate !== null || this.closed) return;
    const check = (): void => {
      this.timer = null;
      this.immediate = null;
      let released = false;
      if (!this.full) {
        this.waiters.shift()?.();
        released = true;
      }
      if (this.waiters.length > 0) this.watch(released);
    };
    if (soon) this.immediate = setImmediate(check);
    else this.timer = setTimeout(check, OUTPUT_RECHECK_MS);
  }
}

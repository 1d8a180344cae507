/**
 * The server-wide budget for bytes queued to sockets (`maxBufferedBytesTotal`). Each socket
 * is capped on its own (`maxBufferedBytes`), but many readers that stop reading can each stay
 * under their cap and still hold the server's memory together: 30 such sockets on a 900 KB
 * document took a server from 116 MB to 1.37 GB.
 *
 * Only sockets that are behind are counted: one is counted once a send leaves at least
 * TRACK_FROM bytes queued, recounted at its next send and when its TCP socket drains, and
 * dropped when it caught up or closed. Between recounts a count can only be too high (a
 * socket drains without telling), so before acting the budget recounts every socket it holds.
 *
 * Over the budget, the stalled sockets — behind without draining once for STALLED_AFTER_MS —
 * are terminated, the ones with the most queued first, until the total is back under it. A
 * socket that stopped reading is stalled and holds the most (it drains nothing); a busy client
 * that keeps draining (one of a crowd fetching a large document at once after a deploy) is
 * spared. Over HARD_FACTOR times the budget nobody is spared: the sockets with the most queued
 * are terminated, stalled or not, until the total is back under that ceiling — so many fresh
 * readers cannot take the memory during the grace either. Termination is immediate (no close
 * handshake), so the queue is freed at once.
 *
 * Bytes are counted per socket: a frame shared by many sockets (the cached full state) counts
 * once for each, so the budget errs on the side of the server.
 */
import { runGuarded } from "./guard.ts";

export interface BudgetedSocket {
  /** Bytes queued for it and not yet taken by the kernel. */
  readonly bufferedAmount: number;
  /** Calls `listener` once when its TCP socket has written out everything queued. */
  onceDrained(listener: () => void): void;
  /** Closes it at once, without a handshake, freeing its queue. */
  terminate(reason: string): void;
}

/** Sockets with less than this queued are not counted (a healthy socket's write in flight). */
const TRACK_FROM = 64 * 1024;
/** A socket behind for this long without draining once is stalled: the budget may terminate it. */
export const STALLED_AFTER_MS = 2_000;
/** Over this many times the budget, any socket may be terminated, largest first. */
export const HARD_FACTOR = 2;

interface Count {
  bytes: number;
  /** When it was last seen drained (or first seen behind). */
  since: number;
}

export class SendBudget {
  private total = 0;
  private readonly counted = new Map<BudgetedSocket, Count>();
  /** Sockets with a drain listener on (at most one each). */
  private readonly waiting = new WeakSet<BudgetedSocket>();
  /** Over the budget with no socket stalled yet: looks again when the oldest will be. */
  private recheck: NodeJS.Timeout | null = null;

  constructor(
    readonly limit: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Bytes queued to the sockets that are behind, recounted now. */
  get queuedBytes(): number {
    this.recount();
    return this.total;
  }

  /** Sockets counted as behind (recounted now). */
  get socketsBehind(): number {
    this.recount();
    return this.counted.size;
  }

  /** After a send to `socket`: counts what it has queued, and keeps the total under the budget. */
  note(socket: BudgetedSocket): void {
    if (!this.counted.has(socket) && socket.bufferedAmount < TRACK_FROM) return;
    this.update(socket);
    if (this.total > this.limit) this.enforce();
  }

  /** The socket closed: it holds nothing any more. */
  forget(socket: BudgetedSocket): void {
    const count = this.counted.get(socket);
    if (count === undefined) return;
    this.counted.delete(socket);
    this.total -= count.bytes;
  }

  private update(socket: BudgetedSocket, drained = false): void {
    const amount = socket.bufferedAmount;
    if (amount < TRACK_FROM) return this.forget(socket);
    let count = this.counted.get(socket);
    if (count === undefined) this.counted.set(socket, (count = { bytes: 0, since: this.now() }));
    else if (drained) count.since = this.now();
    this.total += amount - count.bytes;
    count.bytes = amount;
    if (this.waiting.has(socket)) return;
    this.waiting.add(socket);
    socket.onceDrained(() =>
      runGuarded(() => {
        this.waiting.delete(socket);
        if (this.counted.has(socket)) this.update(socket, true);
      }),
    );
  }

  private recount(): void {
    for (const socket of [...this.counted.keys()]) this.update(socket);
  }

  private enforce(): void {
    this.recount();
    if (this.total <= this.limit) return;
    const now = this.now();
    const largestFirst = [...this.counted].sort((a, b) => b[1].bytes - a[1].bytes);
    const stalled = largestFirst.filter(([, count]) => count.since <= now - STALLED_AFTER_MS);
    this.terminateUntil(stalled, this.limit);
    this.terminateUntil(largestFirst, this.limit * HARD_FACTOR);
    if (this.total > this.limit) this.recheckLater(now);
  }

  /** Terminates `candidates` in order until the total is at most `ceiling`. */
  private terminateUntil(candidates: readonly (readonly [BudgetedSocket, Count])[], ceiling: number): void {
    for (const [socket] of candidates) {
      if (this.total <= ceiling) return;
      if (!this.counted.has(socket)) continue;
      this.forget(socket);
      runGuarded(() => socket.terminate("the server's send budget is spent"));
    }
  }

  private recheckLater(now: number): void {
    if (this.recheck !== null) return;
    let oldest = Infinity;
    for (const count of this.counted.values()) oldest = Math.min(oldest, count.since);
    if (oldest === Infinity) return;
    this.recheck = setTimeout(
      () =>
        runGuarded(() => {
          this.recheck = null;
          this.enforce();
        }),
      Math.max(0, oldest + STALLED_AFTER_MS - now) + 1,
    );
    this.recheck.unref();
  }
}

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
 * Over the budget, the sockets with the most queued are terminated, largest first, until the
 * total is back under it. The socket that stopped reading holds the most (it took everything
 * and drained nothing); a well-behaved client only holds what the kernel has not taken yet.
 * Termination is immediate (no close handshake), so the queue is freed at once.
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

export class SendBudget {
  private total = 0;
  private readonly counted = new Map<BudgetedSocket, number>();
  /** Sockets with a drain listener on (at most one each). */
  private readonly waiting = new WeakSet<BudgetedSocket>();

  constructor(readonly limit: number) {}

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
    const bytes = this.counted.get(socket);
    if (bytes === undefined) return;
    this.counted.delete(socket);
    this.total -= bytes;
  }

  private update(socket: BudgetedSocket): void {
    const amount = socket.bufferedAmount;
    if (amount < TRACK_FROM) return this.forget(socket);
    this.total += amount - (this.counted.get(socket) ?? 0);
    this.counted.set(socket, amount);
    if (this.waiting.has(socket)) return;
    this.waiting.add(socket);
    socket.onceDrained(() =>
      runGuarded(() => {
        this.waiting.delete(socket);
        if (this.counted.has(socket)) this.update(socket);
      }),
    );
  }

  private recount(): void {
    for (const socket of [...this.counted.keys()]) this.update(socket);
  }

  private enforce(): void {
    this.recount();
    if (this.total <= this.limit) return;
    const largestFirst = [...this.counted].sort((a, b) => b[1] - a[1]);
    for (const [socket] of largestFirst) {
      if (this.total <= this.limit) return;
      this.forget(socket);
      runGuarded(() => socket.terminate("the server's send budget is spent"));
    }
  }
}

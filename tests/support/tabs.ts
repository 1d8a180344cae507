/**
 * Browser tabs in Node, for multi-tab tests: a Web Locks manager shared by the "tabs" of a
 * test (the browser's, in miniature: exclusive locks, a FIFO queue, ifAvailable, abort
 * signals, query), Node's BroadcastChannel, and per tab a kill switch that does what a
 * crashed tab does — its locks are released, its channels and sockets close, nothing is
 * said on the way out.
 */
import type { LockManagerLike, BroadcastChannelLike } from "../../client/tabs/tab-messages.ts";
import type { SocketFactory, SocketLike } from "tandem/client";
import WebSocket from "ws";

interface Waiter {
  readonly owner: string;
  readonly grant: () => void;
}

export class FakeLocks {
  private readonly held = new Map<string, { owner: string; release: () => void }>();
  private readonly queues = new Map<string, Waiter[]>();

  /** The lock manager as one tab sees it. */
  forTab(owner: string): LockManagerLike {
    return {
      request: (name, options, callback) => this.request(owner, name, options, callback),
      query: async () => ({ held: [...this.held.keys()].map((name) => ({ name })) }),
    };
  }

  /** Which tab holds a lock now (undefined if none): e.g. the leader's, for tests that must know it. */
  holder(name: string): string | undefined {
    return this.held.get(name)?.owner;
  }

  /** A crashed tab: its locks are released and its queued requests dropped. */
  kill(owner: string): void {
    for (const [name, queue] of this.queues) this.queues.set(name, queue.filter((waiter) => waiter.owner !== owner));
    for (const lock of [...this.held.values()]) if (lock.owner === owner) lock.release();
  }

  private request(owner: string, name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const run = () => {
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          if (this.held.get(name)?.release === release) this.held.delete(name);
          const next = this.queues.get(name)?.shift();
          if (next) next.grant();
        };
        this.held.set(name, { owner, release });
        Promise.resolve()
          .then(() => callback({ name, mode: "exclusive" }))
          .then(
            (value) => {
              release();
              resolve(value);
            },
            (error: unknown) => {
              release();
              reject(error);
            },
          );
      };
      if (!this.held.has(name)) return run();
      if (options.ifAvailable) {
        Promise.resolve()
          .then(() => callback(null))
          .then(resolve, reject);
        return;
      }
      const waiter: Waiter = { owner, grant: run };
      const queue = this.queues.get(name) ?? [];
      queue.push(waiter);
      this.queues.set(name, queue);
      options.signal?.addEventListener("abort", () => {
        const current = this.queues.get(name) ?? [];
        const index = current.indexOf(waiter);
        if (index < 0) return;
        current.splice(index, 1);
        reject(new DOMException("The request was aborted", "AbortError"));
      });
    });
  }
}

/** One simulated tab: its locks, channels and sockets, and a kill switch. */
export class FakeTab {
  private readonly channels: BroadcastChannelLike[] = [];
  private readonly sockets: WebSocket[] = [];
  killed = false;

  constructor(
    readonly name: string,
    private readonly locks: FakeLocks,
  ) {}

  get multiTab(): { locks: LockManagerLike; channel: (name: string) => BroadcastChannelLike } {
    return {
      locks: this.locks.forTab(this.name),
      channel: (name) => {
        const channel = new BroadcastChannel(name) as unknown as BroadcastChannelLike;
        this.channels.push(channel);
        return channel;
      },
    };
  }

  readonly socketFactory: SocketFactory = (url) => {
    if (this.killed) throw new Error("this tab is gone");
    const socket = new WebSocket(url);
    this.sockets.push(socket);
    return socket as unknown as SocketLike;
  };

  /** What a crash does: no goodbye, no unsubscribe, the locks are free, the sockets drop. */
  kill(): void {
    this.killed = true;
    for (const channel of this.channels) {
      channel.onmessage = null;
      channel.close();
    }
    for (const socket of this.sockets) socket.terminate();
    this.locks.kill(this.name);
  }
}

/**
 * The driver's one connection to Redis (ioredis), configured so that no call waits forever
 * and no write is ever sent twice:
 *
 * - no offline queue and no resend of unanswered commands after a reconnect (a write whose
 *   answer was lost may have applied: sending it again could apply it twice);
 * - commands in flight when the connection drops are rejected at once; a command Redis does
 *   not answer is rejected after `commandTimeoutMs`;
 * - a call made while disconnected waits for the connection at most `connectWaitMs`, in
 *   call order (`send` hands commands to the socket synchronously once connected, so the
 *   writes of one actor reach Redis in the order they were made: one connection, pipelined);
 * - it reconnects by itself, forever, with a capped backoff: the driver recovers when Redis
 *   comes back.
 *
 * Every failure reaches the caller as `StorageUnavailable`.
 */
import { Redis } from "ioredis";
import { StorageUnavailable, TandemError } from "../../../shared/errors.ts";
import { SCRIPTS, type ScriptName } from "./scripts.ts";

export interface ConnectionLogger {
  warn(obj: object, msg?: string): void;
}

export interface ConnectionOptions {
  readonly url: string;
  readonly commandTimeoutMs: number;
  readonly connectWaitMs: number;
  readonly log: ConnectionLogger;
}

/** A script's reply: strings or Buffers (per call), integers, nested arrays, null. */
export type Reply = null | number | string | Buffer | Reply[];

type ScriptCall = (...args: (string | number | Buffer | Uint8Array)[]) => Promise<Reply>;

interface Waiter {
  readonly start: () => void;
  readonly fail: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class RedisConnection {
  readonly redis: Redis;
  private readonly waiting: Waiter[] = [];
  private closed = false;
  private wasReady = false;

  constructor(private readonly options: ConnectionOptions) {
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: Math.max(1000, options.connectWaitMs),
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
      reconnectOnError: () => false,
      lazyConnect: false,
    });
    for (const [name, lua] of Object.entries(SCRIPTS)) this.redis.defineCommand(name, { lua });
    this.redis.on("error", (error: Error) => {
      // Reported through the calls that fail; logged once per lost connection (on close).
      void error;
    });
    this.redis.on("ready", () => {
      if (this.wasReady) this.options.log.warn({ url: redactUrl(options.url) }, "redis driver: reconnected to Redis");
      this.wasReady = true;
      this.flush();
    });
    this.redis.on("close", () => {
      if (this.wasReady && !this.closed) this.options.log.warn({ url: redactUrl(options.url) }, "redis driver: connection to Redis lost; calls fail until it is back");
    });
  }

  /**
   * Runs `command` on the connection: at once (synchronously) when connected and nobody is
   * waiting ahead; otherwise once connected, in call order, or fails after `connectWaitMs`.
   */
  send<T>(what: string, command: (redis: Redis) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StorageUnavailable(`Redis driver: ${what} after close`));
    if (this.redis.status === "ready" && this.waiting.length === 0) return this.guard(what, command);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          this.guard(what, command).then(resolve, reject);
        },
        fail: (error) => {
          clearTimeout(waiter.timer);
          reject(error);
        },
        timer: setTimeout(() => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new StorageUnavailable(`Redis driver: ${what}: no connection to Redis within ${this.options.connectWaitMs} ms`));
        }, this.options.connectWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  /** Runs one of the driver's Lua scripts (SCRIPTS), with Buffer replies when `buffers`. */
  script(name: ScriptName, keys: readonly string[], args: readonly (string | number | Uint8Array)[], buffers = false): (redis: Redis) => Promise<Reply> {
    return (redis) => {
      const call = (redis as unknown as Record<string, ScriptCall>)[buffers ? `${name}Buffer` : name]!;
      return call.call(redis, keys.length, ...keys, ...args.map((arg) => (arg instanceof Uint8Array && !(arg instanceof Buffer) ? Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength) : arg)));
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.fail(new StorageUnavailable("Redis driver closed"));
    if (this.redis.status === "ready") {
      try {
        await this.redis.quit();
        return;
      } catch {
        // fall through: drop the connection
      }
    }
    this.redis.disconnect();
  }

  private flush(): void {
    for (const waiter of this.waiting.splice(0)) waiter.start();
  }

  private guard<T>(what: string, command: (redis: Redis) => Promise<T>): Promise<T> {
    let sent: Promise<T>;
    try {
      sent = command(this.redis);
    } catch (error) {
      return Promise.reject(unavailable(what, error));
    }
    return sent.catch((error: unknown) => {
      throw unavailable(what, error);
    });
  }
}

function unavailable(what: string, error: unknown): Error {
  if (error instanceof TandemError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StorageUnavailable(`Redis driver: ${what} failed: ${message}`, { cause: error });
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable url)";
  }
}

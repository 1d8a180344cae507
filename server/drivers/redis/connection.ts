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
import { createRequire } from "node:module";
import type { Redis } from "ioredis";
import { InvalidArguments, StorageCorrupt, StorageUnavailable, TandemError } from "../../../shared/errors.ts";
import type { ConnectionLogger } from "./options.ts";
import { SCRIPTS, type ScriptName } from "./scripts.ts";

export type { ConnectionLogger } from "./options.ts";

/** ioredis is an optional peer dependency: loaded when a Redis driver is made, not when tandem/server is imported. */
function ioredis(): typeof Redis {
  try {
    return (createRequire(import.meta.url)("ioredis") as { Redis: typeof Redis }).Redis;
  } catch (error) {
    if ((error as { code?: string }).code !== "MODULE_NOT_FOUND") throw error;
    throw new InvalidArguments("redisDriver needs the ioredis package (an optional peer dependency of tandem): npm install ioredis");
  }
}

export interface ConnectionOptions {
  /** Which of the driver's connections this is, for logs. */
  readonly name: string;
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
  private connected = false;

  constructor(private readonly options: ConnectionOptions) {
    const RedisClient = ioredis();
    this.redis = new RedisClient(options.url, {
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
    const where = { url: redactUrl(options.url), connection: options.name };
    this.redis.on("ready", () => {
      if (this.wasReady) this.options.log.warn(where, "redis driver: reconnected to Redis");
      this.wasReady = true;
      this.connected = true;
      this.flush();
    });
    this.redis.on("close", () => {
      // Once per loss, not once per failed reconnection attempt.
      if (this.connected && !this.closed) this.options.log.warn(where, "redis driver: connection to Redis lost; calls fail until it is back");
      this.connected = false;
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
      return Promise.reject(unavailable(what, error, this.options.commandTimeoutMs));
    }
    return sent.catch((error: unknown) => {
      throw unavailable(what, error, this.options.commandTimeoutMs);
    });
  }
}

function unavailable(what: string, error: unknown, timeoutMs: number): Error {
  if (error instanceof TandemError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // A key of another type where the driver keeps its data: someone else wrote there.
  if (message.includes("WRONGTYPE")) return new StorageCorrupt(`Redis driver: ${what}: a key holds data of another type (${message})`, { cause: error });
  return new StorageUnavailable(`Redis driver: ${what} failed: ${explain(message, timeoutMs)}`, { cause: error });
}

/** ioredis' messages, said in terms of what happened to the call. */
function explain(message: string, timeoutMs: number): string {
  if (message.startsWith("Reached the max retries") || message === "Connection is closed.") {
    return "the connection to Redis was lost before Redis answered (a write may or may not have applied)";
  }
  if (message.startsWith("Stream isn't writeable")) return "not connected to Redis";
  if (message === "Command timed out") return `Redis did not answer within ${timeoutMs} ms (a write may or may not have applied)`;
  return message;
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

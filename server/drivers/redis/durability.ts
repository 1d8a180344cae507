/**
 * When an append counts as durable on Redis. Redis answers a write once it is in memory;
 * what survives a crash depends on its configuration. An append is acknowledged:
 *
 * - with `durability: { waitReplicas: n }`: after the write, `WAIT n timeout` on the same
 *   connection; fewer than n replica acknowledgements in time → the append rejects (the
 *   write did happen on the primary: the lease may not write again, see lease-writes.ts);
 * - otherwise: once Redis accepted it — durable on disk only under `appendonly yes` with
 *   `appendfsync always`. At startup the driver checks that setting (CONFIG GET) and warns
 *   when neither holds, or that it cannot check (CONFIG may be disabled by the provider).
 */
import type { Redis } from "ioredis";
import type { ConnectionLogger } from "./connection.ts";

export interface RedisDurability {
  /** Replicas that must acknowledge each write (WAIT) before an append resolves. */
  readonly waitReplicas: number;
  /** How long WAIT waits for them (ms). Default 1000. */
  readonly waitTimeoutMs?: number;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 1000;

/** What an append must wait for after its script, or null (Redis' answer is enough). */
export interface ReplicaWait {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/** Sends WAIT right behind the write it confirms (call it synchronously after sending the write). */
export function sendWait(redis: Redis, wait: ReplicaWait): Promise<number> {
  return redis.wait(wait.replicas, wait.timeoutMs);
}

/** The startup check: a warning when Redis may lose acknowledged appends on a crash. */
export async function checkDurability(redis: Redis, wait: ReplicaWait | null, log: ConnectionLogger): Promise<"ok" | "warned" | "unknown"> {
  if (wait !== null) return "ok";
  let appendonly: string | undefined;
  let appendfsync: string | undefined;
  try {
    appendonly = configValue(await redis.config("GET", "appendonly"));
    appendfsync = configValue(await redis.config("GET", "appendfsync"));
  } catch (error) {
    log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      "redis driver: cannot check Redis' durability settings (CONFIG GET refused); acknowledged writes survive a Redis crash only under appendonly yes + appendfsync always, or with durability.waitReplicas",
    );
    return "unknown";
  }
  if (appendonly === "yes" && appendfsync === "always") return "ok";
  log.warn(
    { appendonly, appendfsync },
    "redis driver: Redis is not configured for durable writes (appendonly yes + appendfsync always) and durability.waitReplicas is not set: a Redis crash can lose acknowledged actions",
  );
  return "warned";
}

function configValue(reply: unknown): string | undefined {
  return Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : undefined;
}

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
import { StorageUnavailable } from "../../../shared/errors.ts";
import type { ConnectionLogger, RedisDurability } from "./options.ts";

export type { RedisDurability } from "./options.ts";

export const DEFAULT_WAIT_TIMEOUT_MS = 1000;

/** What an append must wait for after its script, or null (Redis' answer is enough). */
export interface ReplicaWait {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/**
 * WAIT shared by the writes sent in one turn of the event loop: WAIT confirms every write
 * sent before it on the connection, so one WAIT, sent once the turn's writes are out, serves
 * them all (group commit for replication) instead of one replica round trip per write —
 * which matters because WAIT also holds the connection until it returns.
 */
export class ReplicaWaits {
  private pending: Promise<number> | null = null;

  constructor(readonly wait: ReplicaWait) {}

  /** The WAIT that will follow the write just sent on `redis` (call right after sending it). */
  after(redis: Redis): Promise<number> {
    if (this.pending !== null) return this.pending;
    const pending = new Promise<number>((resolve, reject) => {
      queueMicrotask(() => {
        this.pending = null;
        redis.wait(this.wait.replicas, this.wait.timeoutMs).then(resolve, reject);
      });
    });
    pending.catch(() => undefined); // each write reads it
    this.pending = pending;
    return pending;
  }
}

/** Resolves when WAIT counted enough replicas; throws StorageUnavailable otherwise (`what` names the call). */
export async function confirmReplicas(waited: Promise<number>, wait: ReplicaWait, what: string): Promise<void> {
  let acks: number;
  try {
    acks = await waited;
  } catch (error) {
    throw new StorageUnavailable(`${what}: WAIT for replicas failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (acks < wait.replicas) throw new StorageUnavailable(`${what}: only ${acks} of ${wait.replicas} replicas acknowledged the write within ${wait.timeoutMs} ms`);
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

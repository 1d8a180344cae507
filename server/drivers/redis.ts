/**
 * `redisDriver({ url })`: actors stored in one Redis shared by any number of server
 * processes ("nodes"). Each actor has one owner at a time: a lease in Redis with a fencing
 * token from one global counter, expiring unless renewed (`ownership.renew`); every write
 * and load is a Lua script that checks that token inside Redis, so a stale owner — paused,
 * partitioned, replaced — is refused by Redis itself, never only by its own clock.
 *
 * Layout: keys in redis/keys.ts, scripts in redis/scripts.ts, stored bytes in
 * redis/records.ts, the connection's failure rules in redis/connection.ts, durability (AOF
 * fsync always, or WAIT for replicas) in redis/durability.ts.
 * @public
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { InvalidArguments, StorageCorrupt } from "../../shared/errors.ts";
import { consoleLogger } from "../log.ts";
import { HeldElsewhere, type Driver, type Lease, type Ownership } from "./driver.ts";
import { ActorStore } from "./redis/actor-store.ts";
import { RedisConnection } from "./redis/connection.ts";
import type { ConnectionLogger, RedisDurability } from "./redis/options.ts";
import { DEFAULT_WAIT_TIMEOUT_MS, type ReplicaWait, ReplicaWaits, checkDurability, confirmReplicas } from "./redis/durability.ts";
import { DEFAULT_KEY_PREFIX, type RedisKeys, redisKeys } from "./redis/keys.ts";
import { LeaseWrites } from "./redis/lease-writes.ts";
import { readAlarms, redisOwnership } from "./redis/ownership.ts";
import { decodeCommitRecord } from "./redis/records.ts";

export type { RedisDurability } from "./redis/options.ts";
export type { RedisKeys } from "./redis/keys.ts";

export interface RedisDriverOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** Prefix of every key (several clusters can share one Redis). Default "tandem:". */
  keyPrefix?: string;
  /** How long a lease lasts without renewal (ms). Default 5000. */
  leaseMs?: number;
  /** This process's node id. Default: host name, pid and a random suffix (unique per start). */
  nodeId?: string;
  /** When an append counts as durable: see redis/durability.ts. Default: Redis' answer (durable under AOF appendfsync always). */
  durability?: RedisDurability;
  /**
   * A command Redis does not answer within this time (ms) fails. Default 5000 (raised above the
   * WAIT timeout when one is set). Control commands (renew, owner, alarms, meta) fail within
   * half a lease time at most.
   */
  commandTimeoutMs?: number;
  /** A call made while disconnected waits this long (ms) for the connection, then fails. Default 2000. */
  connectWaitMs?: number;
  /** Where the driver reports connection losses and its durability check. Default: warnings as JSON on stderr. */
  log?: ConnectionLogger;
}

export interface RedisDriver extends Driver {
  readonly ownership: Ownership;
  readonly keys: RedisKeys;
  /** The startup check of Redis' durability settings (see redis/durability.ts). */
  readonly durabilityChecked: Promise<"ok" | "warned" | "unknown">;
  /** Writes and loads refused by the fencing check in Redis so far (by every node). */
  refusals(): Promise<number>;
  /** The fencing token of each commit record in an actor's log, oldest first (for tests: owners never interleave). */
  commitTokens(id: string): Promise<number[]>;
}

export const DEFAULT_LEASE_MS = 5000;
const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
const DEFAULT_CONNECT_WAIT_MS = 2000;
/** Longest actor id accepted (UTF-8 bytes): ids become parts of Redis keys. */
const MAX_ID_BYTES = 1024;
const MAX_NODE_ID_LENGTH = 200;
const MAX_KEY_PREFIX_LENGTH = 200;

function checkId(id: unknown): string {
  if (typeof id !== "string" || id === "" || Buffer.byteLength(id) > MAX_ID_BYTES || Buffer.from(id).toString() !== id) {
    throw new InvalidArguments(`An actor id must be a non-empty, well-formed string of at most ${MAX_ID_BYTES} UTF-8 bytes`);
  }
  return id;
}

function checkLease(lease: unknown, id?: string): Lease {
  const candidate = lease as Lease | null;
  if (typeof candidate !== "object" || candidate === null || !Number.isSafeInteger(candidate.token) || candidate.token < 1) {
    throw new InvalidArguments("A lease must be { id, token } as acquire returned it");
  }
  checkId(candidate.id);
  if (id !== undefined && candidate.id !== id) throw new InvalidArguments(`A lease of actor ${candidate.id.slice(0, 120)} cannot write actor ${id.slice(0, 120)}`);
  return candidate;
}

function positiveInteger(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) throw new InvalidArguments(`redisDriver(): ${name} must be an integer ≥ ${min}`);
  return value;
}

function replicaWait(durability: RedisDurability | undefined): ReplicaWait | null {
  if (durability === undefined) return null;
  if (typeof durability !== "object" || durability === null) throw new InvalidArguments("redisDriver(): durability must be { waitReplicas, waitTimeoutMs? }");
  const replicas = positiveInteger("durability.waitReplicas", durability.waitReplicas, 0);
  const timeoutMs = positiveInteger("durability.waitTimeoutMs", durability.waitTimeoutMs, DEFAULT_WAIT_TIMEOUT_MS);
  return replicas === 0 ? null : { replicas, timeoutMs };
}

/** Runs `fn` and turns what it throws synchronously (bad input) into a rejection. */
function attempt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}

export function redisDriver(options: RedisDriverOptions): RedisDriver {
  if (typeof options?.url !== "string" || !/^rediss?:\/\//.test(options.url)) throw new InvalidArguments("redisDriver() needs { url: 'redis://host:port' }");
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== "string" || keyPrefix.length > MAX_KEY_PREFIX_LENGTH) throw new InvalidArguments(`redisDriver(): keyPrefix must be a string of at most ${MAX_KEY_PREFIX_LENGTH} characters`);
  const leaseMs = positiveInteger("leaseMs", options.leaseMs, DEFAULT_LEASE_MS, 10);
  const nodeId = options.nodeId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
  if (typeof nodeId !== "string" || nodeId === "" || nodeId.length > MAX_NODE_ID_LENGTH) throw new InvalidArguments(`redisDriver(): nodeId must be a non-empty string of at most ${MAX_NODE_ID_LENGTH} characters`);
  const wait = replicaWait(options.durability);
  const commandTimeoutMs = Math.max(positiveInteger("commandTimeoutMs", options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS), wait === null ? 0 : wait.timeoutMs + 1000);
  const connectWaitMs = positiveInteger("connectWaitMs", options.connectWaitMs, DEFAULT_CONNECT_WAIT_MS);
  const log = options.log ?? consoleLogger("warn").child({ driver: "redis" });

  const keys = redisKeys(keyPrefix);
  // Two connections: actors' data (acquire, load, writes — in call order, and with WAIT
  // blocking it while replicas are slow), and control (renewals, owners, alarms, meta), so a
  // backlog of writes or a replica outage never delays a lease renewal past its expiry.
  const connection = new RedisConnection({ name: "data", url: options.url, commandTimeoutMs, connectWaitMs, log });
  // A renewal that Redis does not answer fails within half a lease time, so the node learns in
  // time that it may be losing its actors (a slower answer would come after the leases expired).
  const controlTimeoutMs = Math.min(commandTimeoutMs, Math.max(100, Math.floor(leaseMs / 2)));
  const control = new RedisConnection({ name: "control", url: options.url, commandTimeoutMs: controlTimeoutMs, connectWaitMs: Math.min(connectWaitMs, controlTimeoutMs), log });
  const writes = new LeaseWrites();
  const replicaWaits = wait === null ? null : new ReplicaWaits(wait);
  const store = new ActorStore({ nodeId, connection, control, keys, writes, wait: replicaWaits });
  const reportCorrupt = (id: string, error: unknown) =>
    log.warn({ actor: id.slice(0, 120), err: error instanceof Error ? error.message : String(error) }, "redis driver: an alarm's actor meta is corrupt; skipped");
  const ownership = redisOwnership({ checkId, checkLease: (lease) => checkLease(lease), connection: control, keys, nodeId, leaseMs, writes, corrupt: reportCorrupt });
  const durabilityChecked = control.send("durability check", (redis) => checkDurability(redis, wait, log)).catch((error: unknown) => {
    log.warn({ err: error instanceof Error ? error.message : String(error) }, "redis driver: cannot check Redis' durability settings");
    return "unknown" as const;
  });

  return {
    name: "redis",
    ownership,
    keys,
    durabilityChecked,
    acquire: (id) =>
      attempt(async () => {
        checkId(id);
        const script = connection.script("acquire", [keys.lease(id), keys.token], [nodeId, leaseMs]);
        let waited: Promise<number> | null = null;
        const reply = await connection.send("acquire", (redis) => {
          const sent = script(redis);
          // With replicas as the durability, a token is handed out only once they have the counter:
          // a failover to a replica that missed it would hand the same token out again.
          if (replicaWaits !== null) waited = replicaWaits.after(redis);
          return sent;
        });
        if (!Array.isArray(reply) || reply.length !== 2) throw new StorageCorrupt(`Actor ${id}: unexpected reply to acquire`);
        if (Number(reply[0]) !== 1) throw new HeldElsewhere(id, String(reply[1]));
        if (waited !== null && replicaWaits !== null) await confirmReplicas(waited, replicaWaits.wait, `Actor ${id}: acquire`);
        const lease: Lease = { id, token: Number(reply[1]) };
        writes.start(lease);
        return lease;
      }),
    release: (lease) =>
      attempt(async () => {
        checkLease(lease);
        writes.forget(lease);
        try {
          await connection.send("release", connection.script("release", [keys.lease(lease.id)], [lease.token, nodeId]));
        } catch (error) {
          // The lease expires by itself within leaseMs: a release that did not reach Redis only delays the next owner.
          log.warn({ actor: lease.id.slice(0, 120), err: error instanceof Error ? error.message : String(error) }, "redis driver: release failed; the lease will expire");
        }
      }),
    meta: (id) => attempt(() => store.meta(checkId(id))),
    load: (id, lease) => attempt(() => store.load(checkId(id), checkLease(lease, id))),
    create: (meta, first, lease) => attempt(() => store.create(meta, first, checkLease(lease, checkId(meta?.id)))),
    append: (id, commit, lease) => attempt(() => store.append(checkId(id), commit, checkLease(lease, id))),
    compact: (id, snapshot, lease) => attempt(() => store.compact(checkId(id), snapshot, checkLease(lease, id))),
    alarms: () => readAlarms(control, keys, "+inf", reportCorrupt),
    refusals: async () => Number((await control.send("refusals", (redis) => redis.get(keys.refusals))) ?? 0),
    commitTokens: (id) =>
      attempt(async () => {
        const records = await control.send("commitTokens", (redis) => redis.lrangeBuffer(keys.log(checkId(id)), 0, -1));
        return records.map((bytes, at) => {
          try {
            return decodeCommitRecord(bytes).token;
          } catch (error) {
            throw new StorageCorrupt(`Actor ${id}: commit ${at} in Redis is corrupt (${error instanceof Error ? error.message : String(error)})`);
          }
        });
      }),
    close: async () => {
      await Promise.all([connection.close(), control.close()]);
    },
  };
}

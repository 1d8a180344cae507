/**
 * The Redis keys of one Tandem cluster (all under one prefix, default "tandem:"):
 *
 *   {p}token            the ONE fencing-token counter (INCR), shared by every actor and node
 *   {p}lease:{id}       hash t=token n=nodeId w=writes made under t; PX expiry of leaseMs
 *   {p}meta:{id}        the actor's meta (framed binary); exists ⇔ the actor exists
 *   {p}snap:{id}        its snapshot (framed, with the writer's token), absent before the first compaction
 *   {p}log:{id}         list of commit records since the snapshot (framed, each with the writer's token)
 *   {p}alarms           sorted set: actor id → its earliest schedule (ms since the epoch)
 *   {p}node:{nodeId}    a node's announced URL, PX expiry of 2 × leaseMs, refreshed by renew
 *   {p}secret           the cluster secret (SET NX once)
 *   {p}refusals         writes and loads refused by the fencing check (for tests and metrics)
 *
 * A lookup of a missing actor touches only its lease key, which expires (or is deleted by
 * release): nothing per actor is left behind.
 */
export interface RedisKeys {
  readonly token: string;
  readonly alarms: string;
  readonly secret: string;
  readonly refusals: string;
  readonly metaPrefix: string;
  readonly nodePrefix: string;
  lease(id: string): string;
  meta(id: string): string;
  snapshot(id: string): string;
  log(id: string): string;
  node(nodeId: string): string;
}

export const DEFAULT_KEY_PREFIX = "tandem:";

export function redisKeys(prefix: string = DEFAULT_KEY_PREFIX): RedisKeys {
  return {
    token: `${prefix}token`,
    alarms: `${prefix}alarms`,
    secret: `${prefix}secret`,
    refusals: `${prefix}refusals`,
    metaPrefix: `${prefix}meta:`,
    nodePrefix: `${prefix}node:`,
    lease: (id) => `${prefix}lease:${id}`,
    meta: (id) => `${prefix}meta:${id}`,
    snapshot: (id) => `${prefix}snap:${id}`,
    log: (id) => `${prefix}log:${id}`,
    node: (nodeId) => `${prefix}node:${nodeId}`,
  };
}

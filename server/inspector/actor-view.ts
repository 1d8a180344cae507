/**
 * What the inspector shows of an actor, as JSON: a summary per live actor (the list), and
 * one actor in detail (state tree, connections, presence, recent activity, schedules,
 * exactly-once records). Everything is read from the live instance at the time of asking;
 * lists are cut at `inspectorMaxListed` and say how many there were.
 */
import type { ActorHub } from "../network/actor-hub.ts";
import type { Limits } from "../network/limits.ts";
import { identityOf } from "../network/presence.ts";
import type { ActorInstance } from "../runtime/actor-instance.ts";
import { stateToJSON } from "../../shared/state/index.ts";
import type { InstanceObserver } from "./server-metrics.ts";

/** Why no storage size is shown: the driver contract has no cheap way to ask it. */
export const STORAGE_SIZE_NOTE = "not known: the driver contract (server/drivers/driver.ts) has no cheap way to tell an actor's stored size";

export interface ActorSummary {
  readonly name: string;
  readonly key: readonly string[];
  readonly id: string;
  /** The node that owns it (this one: it is loaded here), with a cluster driver; else null. */
  readonly ownerNodeId: string | null;
  readonly status: string;
  readonly loaded: true;
  readonly connections: number;
  readonly lastCommitAt: number | null;
  readonly createdAt: number;
  readonly storageBytes: null;
}

export function summary(instance: ActorInstance, nodeId: string | null): ActorSummary {
  const observed = instance.observed as InstanceObserver | null;
  return {
    name: instance.name,
    key: instance.key,
    id: instance.id,
    ownerNodeId: nodeId,
    status: instance.status,
    loaded: true,
    connections: instance.conns.size,
    lastCommitAt: observed?.lastCommitAt ?? null,
    createdAt: instance.meta.createdAt,
    storageBytes: null,
  };
}

/** A list cut at `max`, with the whole count. */
function cut<T>(items: Iterable<T>, max: number): { readonly items: T[]; readonly total: number } {
  const out: T[] = [];
  let total = 0;
  for (const item of items) {
    total++;
    if (out.length < max) out.push(item);
  }
  return { items: out, total };
}

export function detail(instance: ActorInstance, nodeId: string | null, limits: Limits) {
  const max = limits.inspectorMaxListed;
  const observed = instance.observed as InstanceObserver | null;
  const state = stateToJSON(instance.doc);
  const stateJson = JSON.stringify(state, (_key, value: unknown) => (value instanceof Uint8Array ? { bytes: value.byteLength } : value));
  const stateBytes = Buffer.byteLength(stateJson);
  const hub = instance.hubIfMade as ActorHub | null;
  const identity = instance.config.identity as ((auth: never) => unknown) | undefined;
  const conns = [...instance.conns.values()].map((conn) => ({
    id: conn.id,
    identity: identityOf(conn.auth, identity),
    params: conn.params ?? null,
    live: conn.live,
    address: conn.request?.ip ?? null,
  }));
  return {
    ...summary(instance, nodeId),
    storageNote: STORAGE_SIZE_NOTE,
    stateBytes,
    state: stateBytes > limits.inspectorMaxStateBytes ? null : (JSON.parse(stateJson) as unknown),
    stateTooLarge: stateBytes > limits.inspectorMaxStateBytes,
    connections: conns.length,
    connectionList: cut(conns, max),
    presence: hub === null ? { items: [], total: 0 } : { items: hub.presence.list(max), total: hub.presence.count },
    recent: observed?.recent.list() ?? [],
    schedules: cut(instance.schedules.list(), max),
    exactlyOnce: { owners: instance.exactlyOnce.ownerList(max), total: instance.exactlyOnce.ownerCount, bytes: instance.exactlyOnce.bytes },
    mailbox: instance.mailbox.size,
  };
}

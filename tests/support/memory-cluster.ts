/**
 * Several "nodes" in one process sharing one memory store, with the ownership of a shared
 * driver (server/drivers/driver.ts `Ownership`) — leases that expire unless renewed, owners
 * that are found, HeldElsewhere — as redisDriver has it. For fast, deterministic tests of the
 * cluster layer (routing, relaying, forwarding, lease loss); the real thing runs against a
 * real redis-server in the tests named cluster-redis-*.
 */
import { StaleLease } from "../../shared/errors.ts";
import { type Alarm, type Driver, HeldElsewhere, type Lease, type NodeAddress, type Ownership } from "../../server/drivers/driver.ts";
import { memoryDriver } from "../../server/drivers/memory.ts";

interface HeldLease {
  readonly nodeId: string;
  readonly token: number;
  expires: number;
}

export interface MemoryCluster {
  /** The driver of one node (a new node id each call unless given). */
  node(nodeId?: string): Driver & { readonly ownership: Ownership };
  /** The live owner of an actor, or null. */
  ownerOf(id: string): string | null;
  /** Writes refused because their lease was not the live one. */
  readonly refusals: number;
}

export function memoryCluster(options: { leaseMs?: number } = {}): MemoryCluster {
  const leaseMs = options.leaseMs ?? 1000;
  const store = memoryDriver();
  const leases = new Map<string, HeldLease>();
  const urls = new Map<string, string>();
  let nodes = 0;
  let refusals = 0;

  function live(id: string): HeldLease | null {
    const lease = leases.get(id);
    return lease !== undefined && lease.expires > Date.now() ? lease : null;
  }

  function check(id: string, lease: Lease): void {
    const held = live(id);
    if (held === null || held.token !== lease.token) {
      refusals++;
      throw new StaleLease(id, lease.token, held?.token ?? 0);
    }
  }

  return {
    get refusals() {
      return refusals;
    },
    ownerOf(id) {
      return live(id)?.nodeId ?? null;
    },
    node(nodeId = `node-${++nodes}`) {
      const ownership: Ownership = {
        nodeId,
        leaseMs,
        async announce(url) {
          urls.set(nodeId, url);
        },
        async owner(id): Promise<NodeAddress | null> {
          const held = live(id);
          if (held === null) return null;
          return { nodeId: held.nodeId, url: urls.get(held.nodeId) ?? "" };
        },
        async renew(held) {
          const lost: Lease[] = [];
          for (const lease of held) {
            const current = live(lease.id);
            if (current !== null && current.nodeId === nodeId && current.token === lease.token) current.expires = Date.now() + leaseMs;
            else lost.push(lease);
          }
          return lost;
        },
        async dueAlarms(until): Promise<Alarm[]> {
          return (await store.alarms()).filter((alarm) => alarm.at <= until);
        },
        async secret() {
          return "memory-cluster-secret";
        },
      };
      return {
        name: "memory-cluster",
        ownership,
        async acquire(id) {
          const held = live(id);
          if (held !== null && held.nodeId !== nodeId) throw new HeldElsewhere(id, held.nodeId);
          const lease = await store.acquire(id);
          leases.set(id, { nodeId, token: lease.token, expires: Date.now() + leaseMs });
          return lease;
        },
        async release(lease) {
          const held = leases.get(lease.id);
          if (held !== undefined && held.token === lease.token) leases.delete(lease.id);
          await store.release(lease);
        },
        meta: (id) => store.meta(id),
        async load(id, lease) {
          check(id, lease);
          return store.load(id, lease);
        },
        async create(meta, first, lease) {
          check(meta.id, lease);
          return store.create(meta, first, lease);
        },
        async append(id, commit, lease) {
          check(id, lease);
          return store.append(id, commit, lease);
        },
        async compact(id, snapshot, lease) {
          check(id, lease);
          return store.compact(id, snapshot, lease);
        },
        alarms: () => store.alarms(),
        async close() {},
      };
    },
  };
}

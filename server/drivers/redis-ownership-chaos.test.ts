/**
 * Seeded chaos over leases: three nodes on one Redis race for three actors with short leases,
 * pause their renewals at random (as a stalled process would) and keep writing with what
 * they believe they hold, pipelined — or, as zombies, with a lease they lost long ago. Invariants, read from the raw logs in Redis:
 *   - no two owners interleave: the fencing tokens along each log never go down;
 *   - what one lease wrote is a prefix of what it sent, in order, once (no gap, no double);
 *   - every acknowledged append is there; no append refused as stale is.
 * Prints the seed; re-run one with SEED=<n>, more with SEEDS=<n>.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { StaleLease } from "../../shared/errors.ts";
import { metaOf } from "../../tests/support/driver-conformance.ts";
import { random, seeds } from "../../tests/support/random.ts";
import { RedisServer } from "../../tests/support/redis-server.ts";
import { HeldElsewhere, type Lease } from "./driver.ts";
import { type RedisDriver, redisDriver } from "./redis.ts";
import { decodeCommitRecord } from "./redis/records.ts";

const LEASE_MS = 150;
const ACTORS = ["c0", "c1", "c2"];
const STEPS = 100;
let server: RedisServer;
let admin: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
});
afterAll(async () => {
  await admin?.quit();
  await server?.stop();
});

interface Node {
  readonly driver: RedisDriver;
  readonly held: Map<string, Lease>;
  /** Every lease the node ever had, per actor: a zombie writes with one it lost long ago. */
  readonly ever: Map<string, Lease[]>;
  renewing: boolean;
  timer?: NodeJS.Timeout;
}

for (const seed of seeds(3)) {
  test(`chaos of owners, seed ${seed}`, async () => {
    console.log(`redis ownership chaos: seed ${seed} (re-run with SEED=${seed})`);
    const rng = random(seed);
    const prefix = `chaos${seed}:`;
    const open = (nodeId: string) => redisDriver({ url: server.url, keyPrefix: prefix, nodeId, leaseMs: LEASE_MS, log: { warn() {} } });
    const setupNode = open("setup");
    for (const id of ACTORS) {
      const lease = await setupNode.acquire(id);
      await setupNode.create(metaOf(id), {}, lease);
      await setupNode.release(lease);
    }
    await setupNode.close();

    const nodes: Node[] = ["n0", "n1", "n2"].map((nodeId) => ({ driver: open(nodeId), held: new Map(), ever: new Map(), renewing: true }));
    const sent = new Map<number, string[]>(); // token → labels in call order
    const acked = new Set<string>();
    const stale = new Set<string>();
    const writes: Promise<void>[] = [];
    for (const node of nodes) {
      node.timer = setInterval(() => {
        if (!node.renewing) return;
        const leases = [...node.held.values()];
        node.driver.ownership.renew(leases).then(
          (lost) => {
            for (const lease of lost) if (node.held.get(lease.id) === lease) node.held.delete(lease.id);
          },
          () => undefined,
        );
      }, LEASE_MS / 3);
    }

    try {
      for (let step = 0; step < STEPS; step++) {
        const node = rng.pick(nodes);
        const id = rng.pick(ACTORS);
        const roll = rng.int(10);
        if (roll < 3) {
          const lease = await node.driver.acquire(id).catch((error: unknown) => {
            if (error instanceof HeldElsewhere) return null;
            throw error;
          });
          if (lease !== null) {
            node.held.set(id, lease);
            node.ever.set(id, [...(node.ever.get(id) ?? []), lease]);
          }
        } else if (roll < 8) {
          // Mostly what it holds; sometimes (a zombie that missed the news) a lease it had before.
          const lease = rng.bool(0.7) ? node.held.get(id) : rng.pick(node.ever.get(id) ?? [undefined]);
          if (lease === undefined) continue;
          const labels = sent.get(lease.token) ?? [];
          sent.set(lease.token, labels);
          for (let i = 1 + rng.int(5); i > 0; i--) {
            const label = `${lease.token}:${labels.length}`;
            labels.push(label);
            writes.push(
              node.driver.append(id, { privateState: label }, lease).then(
                () => void acked.add(label),
                (error: unknown) => {
                  if (error instanceof StaleLease) stale.add(label);
                },
              ),
            );
          }
        } else if (roll < 9) {
          // A stall: no renewals for a while, but the node goes on writing with what it holds.
          node.renewing = false;
          setTimeout(() => (node.renewing = true), rng.int(3 * LEASE_MS));
        }
        await new Promise((resolve) => setTimeout(resolve, rng.int(25)));
      }
      await Promise.all(writes);
    } finally {
      for (const node of nodes) {
        clearInterval(node.timer);
        await node.driver.close();
      }
    }

    let records = 0;
    for (const id of ACTORS) {
      const log = (await admin.lrangeBuffer(`${prefix}log:${id}`, 0, -1)).map((bytes) => decodeCommitRecord(bytes));
      const labels = log.slice(1).map((record) => String(record.value.privateState));
      records += labels.length;
      // Tokens along the log never go down: owners never interleave.
      for (let i = 1; i < log.length; i++) expect(log[i]!.token).toBeGreaterThanOrEqual(log[i - 1]!.token);
      // Per lease: a prefix of what it sent, in order, once.
      const byToken = new Map<number, string[]>();
      for (const record of log.slice(1)) byToken.set(record.token, [...(byToken.get(record.token) ?? []), String(record.value.privateState)]);
      for (const [token, written] of byToken) expect(written).toEqual((sent.get(token) ?? []).slice(0, written.length));
      for (const label of labels) expect(stale.has(label)).toBe(false);
    }
    const all = new Set<string>();
    for (const id of ACTORS) {
      for (const bytes of await admin.lrangeBuffer(`${prefix}log:${id}`, 1, -1)) all.add(String(decodeCommitRecord(bytes).value.privateState));
    }
    for (const label of acked) expect(all.has(label)).toBe(true);
    expect(records).toBeGreaterThan(0);
    console.log(`redis ownership chaos: seed ${seed}: ${sent.size} leases wrote, ${acked.size} appends acknowledged, ${stale.size} refused as stale`);
  });
}

/**
 * The Redis driver's cost of durability on this machine (npx tsx bench/redis-durability.ts).
 * One JSON line per configuration × mode:
 *   - configurations: AOF appendfsync always (an acknowledged append is on the primary's
 *     disk); WAIT 1 with one replica (it is in a second Redis' memory, AOF off on both);
 *     AOF off (the floor: Redis' memory only, nothing survives a crash);
 *   - modes: awaited one by one (one actor, one writer: each append waits for the last), and
 *     pipelined (PIPELINE appends in flight at once on one actor, as the runtime's group
 *     commit sends them); latency is call → resolve of each append.
 * Each append is an action's typical commit: a small Yjs update and one seq record.
 * BENCH_APPENDS shrinks the run for a quick look. Every redis-server is started on a free
 * port and stopped at the end (tests/support/redis-server.ts).
 */
import { Redis } from "ioredis";
import * as Y from "yjs";
import type { Commit } from "../server/drivers/driver.ts";
import { type RedisDriver, type RedisDriverOptions, redisDriver } from "../server/drivers/redis.ts";
import { RedisServer } from "../tests/support/redis-server.ts";

const APPENDS = Number(process.env.BENCH_APPENDS ?? 3000);
const PIPELINE = 50;
const quiet = { warn() {} };

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Commits as the runtime writes them for an action: a one-item Yjs update and its seq record. */
function commits(count: number): Commit[] {
  const doc = new Y.Doc();
  const out: Commit[] = [];
  let vector = Y.encodeStateVector(doc);
  for (let i = 0; i < count; i++) {
    doc.getArray("items").push([{ n: i, by: "client-1" }]);
    const update = Y.encodeStateAsUpdate(doc, vector);
    vector = Y.encodeStateVector(doc);
    out.push({ update, seqs: [{ clientId: "client-1", seq: i + 1, result: { ok: true, value: i }, at: Date.now() }] });
  }
  return out;
}

interface Measured {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly appendsPerSecond: number;
}

async function measure(driver: RedisDriver, id: string, mode: "awaited" | "pipelined"): Promise<Measured> {
  const lease = await driver.acquire(id);
  await driver.create({ id, name: "bench", key: [id], createdAt: Date.now() }, {}, lease);
  const work = commits(APPENDS);
  const latencies: number[] = [];
  // As a node does: renew the lease while it works (a run can outlast one lease time).
  const renewal = setInterval(() => void driver.ownership.renew([lease]).catch(() => undefined), driver.ownership.leaseMs / 3);
  const started = performance.now();
  if (mode === "awaited") {
    for (const commit of work) {
      const at = performance.now();
      await driver.append(id, commit, lease);
      latencies.push(performance.now() - at);
    }
  } else {
    // PIPELINE appends in flight at all times, each sent without waiting for the one before.
    let next = 0;
    const lane = async () => {
      while (next < work.length) {
        const commit = work[next++]!;
        const at = performance.now();
        await driver.append(id, commit, lease);
        latencies.push(performance.now() - at);
      }
    };
    await Promise.all(Array.from({ length: PIPELINE }, lane));
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(renewal);
  await driver.release(lease);
  latencies.sort((a, b) => a - b);
  return { p50Ms: round(percentile(latencies, 0.5)), p99Ms: round(percentile(latencies, 0.99)), appendsPerSecond: Math.round(work.length / seconds) };
}

interface Configuration {
  readonly name: string;
  readonly start: () => Promise<{ servers: RedisServer[]; options: Partial<RedisDriverOptions>; url: string }>;
}

/** Waits (bounded) until the replica's link to its primary is up. */
async function waitForReplica(replica: RedisServer): Promise<void> {
  const redis = new Redis(replica.url);
  try {
    for (let i = 0; i < 400; i++) {
      if ((await redis.info("replication")).includes("master_link_status:up")) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error("the replica never synced");
  } finally {
    await redis.quit();
  }
}

const CONFIGURATIONS: Configuration[] = [
  {
    name: "aof-always",
    start: async () => {
      const server = await RedisServer.start({ appendonly: true, appendfsync: "always" });
      return { servers: [server], options: {}, url: server.url };
    },
  },
  {
    name: "wait-1-replica",
    start: async () => {
      const primary = await RedisServer.start();
      const replica = await RedisServer.start({ replicaof: { host: "127.0.0.1", port: primary.port } });
      await waitForReplica(replica);
      return { servers: [primary, replica], options: { durability: { waitReplicas: 1, waitTimeoutMs: 1000 } }, url: primary.url };
    },
  },
  {
    name: "aof-off",
    start: async () => {
      const server = await RedisServer.start();
      return { servers: [server], options: {}, url: server.url };
    },
  },
];

for (const configuration of CONFIGURATIONS) {
  const { servers, options, url } = await configuration.start();
  const driver = redisDriver({ url, log: quiet, ...options });
  try {
    for (const mode of ["awaited", "pipelined"] as const) {
      const result = await measure(driver, `${configuration.name}-${mode}`, mode);
      console.log(JSON.stringify({ workload: "redis-durability", configuration: configuration.name, mode, appends: APPENDS, inFlight: mode === "awaited" ? 1 : PIPELINE, ...result }));
    }
  } finally {
    await driver.close();
    for (const server of servers) await server.stop();
  }
}

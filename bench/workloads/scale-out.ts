/**
 * Scale-out over Redis (issue 14): `tandem serve … --redis` nodes as separate processes on
 * one redis-server (AOF, appendfsync always: the durable configuration README documents),
 * clients in this process. There is no anchor to run beside it (RivetKit's and Hocuspocus's
 * Redis setups offer no single-owner authority to compare with), so each case compares the
 * cluster with itself on fewer nodes, or with one node:
 *
 *   scale-out-cpu   50 connections × 200 awaited actions, each connection on its own actor,
 *                   over 1, 2 and 3 nodes. Clients connect round-robin through a TCP
 *                   balancer; each actor is created (getOrCreate) on the node its client
 *                   landed on, so nothing is relayed here: this measures what N nodes cost
 *                   for the same load. Figures: server CPU per action (all nodes together, from
 *                   /proc/<pid>/stat) and actions/s, measured after 3 s of steady state (an
 *                   actor whose clients are all on one other node moves there). On 2 cores,
 *                   wall time cannot grow with nodes; what must hold is CPU per action staying
 *                   flat (linear capacity).
 *   failover        a client calls one actor in a loop through the balancer; the owner is
 *                   kill -9'd; time from the kill to the first acknowledged action (served by
 *                   the new owner), with leases of 1 s and of the default 5 s.
 *   fan-out         one writer on node A sends 1,000 awaited `tick`s (state + event) to an
 *                   actor A owns; 100 subscribers connected to node B (every channel relayed),
 *                   against the same 100 subscribers on node A: time until all saw the last.
 *
 * BENCH_QUICK=1 shrinks it. Prints one JSON line per case.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createClient, type Client } from "../../client/index.ts";
import { redisDriver } from "../../server/index.ts";
import { actorId } from "../../server/runtime/actor-id.ts";
import { RedisServer } from "../../tests/support/redis-server.ts";
import { ServeChild } from "../../tests/support/serve-child.ts";
import { tcpBalancer } from "../../tests/support/tcp-balancer.ts";
import type { registry } from "../apps/cluster-app.ts";
import { latencySummary, round, size } from "../lib/util.ts";

type R = typeof registry;
const APP = fileURLToPath(new URL("../apps/cluster-app.ts", import.meta.url));
const CONNECTIONS = size(50, 10);
const ACTIONS_EACH = size(200, 40);
const SUBSCRIBERS = size(100, 20);
const TICKS = size(1000, 100);
const BACKOFF = { baseMs: 20, maxMs: 200 } as const;
const TICKS_PER_SECOND = 100; // USER_HZ: 100 on Linux

function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
}

async function cluster(redis: RedisServer, count: number, leaseMs = 5000) {
  const nodes = Array.from({ length: count }, () => ServeChild.start(APP, null, { extraArgs: ["--redis", redis.url, "--lease-ms", String(leaseMs)] }));
  await Promise.all(nodes.map((node) => node.ready(60_000)));
  const balancer = await tcpBalancer(nodes.map((node) => node.port));
  return {
    nodes,
    balancer,
    cpuMs: () => nodes.reduce((sum, node) => sum + (node.exit === null ? cpuMsOf(node.child.pid!) : 0), 0),
    async stop() {
      await balancer.close();
      await Promise.all(nodes.map((node) => node.terminate(5_000)));
    },
  };
}

async function flush(redis: RedisServer): Promise<void> {
  const { Redis } = await import("ioredis");
  const connection = new Redis(redis.url);
  await connection.flushall();
  connection.disconnect();
}

async function scaleOutCpu(redis: RedisServer): Promise<void> {
  const byNodes: Record<string, Record<string, number>> = {};
  for (const count of [1, 2, 3]) {
    await flush(redis);
    const c = await cluster(redis, count);
    const clients: Client<R>[] = [];
    try {
      const conns = Array.from({ length: CONNECTIONS }, (_, i) => {
        const client = createClient<R>(c.balancer.url, { backoff: BACKOFF });
        clients.push(client);
        return client.counter.getOrCreate(`actor-${count}-${i}`).connect();
      });
      await Promise.all(conns.map((conn) => conn.whenSynced()));
      for (const conn of conns) await conn.inc(1); // every actor loaded
      // Steady state: an actor whose clients are all on another node moves there (in ~1-2 s).
      await new Promise((resolve) => setTimeout(resolve, 3000));
      for (const conn of conns) await conn.inc(1);
      const cpuBefore = c.cpuMs();
      const start = performance.now();
      const samples: number[] = [];
      await Promise.all(
        conns.map(async (conn) => {
          for (let i = 0; i < ACTIONS_EACH; i++) {
            const t = performance.now();
            await conn.inc(1);
            samples.push(performance.now() - t);
          }
        }),
      );
      const elapsed = performance.now() - start;
      const cpu = c.cpuMs() - cpuBefore;
      const actions = CONNECTIONS * ACTIONS_EACH;
      byNodes[`${count}`] = {
        actionsPerSec: round((actions / elapsed) * 1000, 0),
        serverCpuUsPerAction: round((cpu * 1000) / actions, 0),
        p50Ms: latencySummary(samples).p50Ms as number,
      };
    } finally {
      for (const client of clients) client.dispose();
      await c.stop();
    }
  }
  const one = byNodes["1"]!.serverCpuUsPerAction!;
  console.log(
    JSON.stringify({
      workload: "scale-out",
      case: "scale-out-cpu",
      title: `${CONNECTIONS} connections × ${ACTIONS_EACH} actions on ${CONNECTIONS} actors over 1, 2 and 3 nodes (Redis, AOF always)`,
      tandem: byNodes,
      cpuPerActionRatio: { "2 nodes / 1": round(byNodes["2"]!.serverCpuUsPerAction! / one, 2), "3 nodes / 1": round(byNodes["3"]!.serverCpuUsPerAction! / one, 2) },
      ratioOf: "server CPU per action on N nodes / on 1 node (1.0 = capacity linear in nodes)",
    }),
  );
}

async function failover(redis: RedisServer): Promise<void> {
  const figures: Record<string, number> = {};
  const observer = redisDriver({ url: redis.url, log: { warn() {} } });
  for (const leaseMs of [1000, 5000]) {
    await flush(redis);
    const c = await cluster(redis, 3, leaseMs);
    const client = createClient<R>(c.balancer.url, { backoff: BACKOFF });
    try {
      const conn = client.counter.getOrCreate("failover").connect();
      await conn.whenSynced();
      await conn.inc(1);
      await new Promise((resolve) => setTimeout(resolve, 3000)); // placement settled
      const id = actorId("counter", ["failover"]);
      const where = await observer.ownership.owner(id);
      const owner = c.nodes.find((node) => node.url === where?.url);
      if (owner === undefined) throw new Error(`no live owner found for the failover actor (${JSON.stringify(where)})`);
      let killedAt = 0;
      let reaped = false;
      let firstAfter = 0;
      let stop = false;
      const loop = (async () => {
        while (!stop) {
          await conn.inc(1);
          // Only an ack that arrives once the owner is gone for sure comes from the new owner.
          if (reaped && firstAfter === 0) firstAfter = performance.now();
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 500));
      c.balancer.targets = c.balancer.targets.filter((port) => port !== owner.port);
      killedAt = performance.now();
      await owner.kill();
      reaped = true;
      const deadline = performance.now() + leaseMs * 4 + 10_000;
      while (firstAfter === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      stop = true;
      await loop.catch(() => undefined);
      figures[`lease${leaseMs}Ms`] = firstAfter === 0 ? -1 : round(firstAfter - killedAt, 0);
      conn.dispose();
    } finally {
      client.dispose();
      await c.stop();
    }
  }
  await observer.close();
  console.log(
    JSON.stringify({
      workload: "scale-out",
      case: "failover",
      title: "failover: kill -9 of an actor's owner → first acknowledged action on the new owner (ms)",
      tandem: figures,
      ratioOf: "failover time / lease time (≤ ~1.3 expected: the lease runs out, the next subscribe takes it)",
      ratio: { lease1000Ms: round(figures.lease1000Ms! / 1000, 2), lease5000Ms: round(figures.lease5000Ms! / 5000, 2) },
    }),
  );
}

async function fanOut(redis: RedisServer): Promise<void> {
  const figures: Record<string, Record<string, number>> = {};
  for (const where of ["same node", "other node"] as const) {
    await flush(redis);
    const c = await cluster(redis, 2);
    const clients: Client<R>[] = [];
    try {
      const [a, b] = c.nodes as [ServeChild, ServeChild];
      const writerClient = createClient<R>(a.url!, { backoff: BACKOFF });
      clients.push(writerClient);
      const writer = writerClient.counter.getOrCreate("fan").connect();
      await writer.whenSynced();
      const subscribers = Array.from({ length: SUBSCRIBERS }, () => {
        const client = createClient<R>((where === "same node" ? a : b).url!, { backoff: BACKOFF });
        clients.push(client);
        return client.counter.get("fan").connect();
      });
      await Promise.all(subscribers.map((conn) => conn.whenSynced()));
      let seen = 0;
      for (const conn of subscribers) conn.on("tick", (i) => i === TICKS && seen++);
      const cpuBefore = c.cpuMs();
      const start = performance.now();
      for (let i = 1; i <= TICKS; i++) await writer.tick(i);
      const deadline = performance.now() + 120_000;
      while (seen < SUBSCRIBERS && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      figures[where] = { allSawLastMs: round(performance.now() - start, 0), serverCpuMs: round(c.cpuMs() - cpuBefore, 0), subscribersDone: seen };
    } finally {
      for (const client of clients) client.dispose();
      await c.stop();
    }
  }
  console.log(
    JSON.stringify({
      workload: "scale-out",
      case: "fan-out",
      title: `cross-node fan-out: 1 writer on node A, ${TICKS} awaited ticks (state + event) → ${SUBSCRIBERS} subscribers on node B, against all on node A`,
      tandem: figures,
      ratio: round(figures["same node"]!.allSawLastMs! / figures["other node"]!.allSawLastMs!, 2),
      cpuRatio: round(figures["other node"]!.serverCpuMs! / figures["same node"]!.serverCpuMs!, 2),
      ratioOf: "time on one node / time across nodes (1.0: relaying costs no time); cpuRatio: server CPU across / on one",
    }),
  );
}

const only = process.env.BENCH_CASES?.split(",").filter(Boolean);
const redis = await RedisServer.start({ appendonly: true, appendfsync: "always" });
try {
  if (!only || only.includes("scale-out-cpu")) await scaleOutCpu(redis);
  if (!only || only.includes("failover")) await failover(redis);
  if (!only || only.includes("fan-out")) await fanOut(redis);
} finally {
  await redis.stop();
}
process.exit(0);

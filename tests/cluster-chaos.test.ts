/**
 * Seeded chaos on a cluster: three `tandem serve --redis` nodes (separate processes) on one
 * real redis-server (AOF, appendfsync always), behind a round-robin TCP balancer. Clients
 * connect through the balancer and stream actions at four actors while the test kill -9s
 * nodes (and starts new ones in their place), cuts the balancer's links to a node, and
 * pauses a node past its lease (SIGSTOP, then SIGCONT).
 *
 * Invariants at the end, for every actor:
 * - every action was acknowledged, and each one is in the state exactly once;
 * - each stream's actions are in the state in the order it sent them;
 * - every client's replica equals the actor's state;
 * - no two owners ever committed for it: the fencing tokens of its commit log never go down
 *   (a stale owner's write after its successor's would show a lower token after a higher).
 *
 * The seed is printed; re-run with SEED=<n>. CLUSTER_CHAOS_STEPS=<n> for a longer run.
 */
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";
import { createClient, type Client } from "tandem/client";
import { type RedisDriver, redisDriver } from "tandem/server";
import { actorId } from "../server/runtime/actor-id.ts";
import { sleep, waitFor, within } from "./seed-helpers.ts";
import { registry } from "./support/cluster-registry.ts";
import { random } from "./support/random.ts";
import { RedisServer } from "./support/redis-server.ts";
import { ServeChild } from "./support/serve-child.ts";
import { tcpBalancer, type TcpBalancer } from "./support/tcp-balancer.ts";

type R = typeof registry;
const MODULE = fileURLToPath(new URL("./support/cluster-registry.ts", import.meta.url));
const LEASE_MS = 800;
const STEPS = Number(process.env.CLUSTER_CHAOS_STEPS ?? 8);
const SEED = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
const KEYS = ["k0", "k1", "k2", "k3"] as const;
const CLIENTS = 6;
const STREAMS_PER_CLIENT = 2;
const WINDOW = 3;

let redis: RedisServer | undefined;
let observer: RedisDriver | undefined;
let balancer: TcpBalancer | undefined;
const nodes: ServeChild[] = [];
const clients: Client<R>[] = [];

afterAll(async () => {
  for (const made of clients) made.dispose();
  await balancer?.close();
  await Promise.all(nodes.map((node) => node.kill()));
  await observer?.close();
  await redis?.stop();
}, 30_000);

interface Stream {
  readonly name: string;
  readonly key: (typeof KEYS)[number];
  readonly conn: ReturnType<ReturnType<Client<R>["log"]["getOrCreate"]>["connect"]>;
  sent: number;
  acked: number;
  readonly inFlight: Set<Promise<unknown>>;
}

test(`cluster chaos, seed ${SEED} (SEED=${SEED})`, async () => {
  console.log(`cluster chaos: SEED=${SEED}, ${STEPS} steps`);
  const rnd = random(SEED);
  redis = await RedisServer.start({ appendonly: true, appendfsync: "always" });
  observer = redisDriver({ url: redis.url, log: { warn() {} } });
  const start = () => {
    const node = ServeChild.start(MODULE, null, { extraArgs: ["--redis", redis!.url, "--lease-ms", String(LEASE_MS)] });
    nodes.push(node);
    return node;
  };
  const live = [start(), start(), start()];
  await Promise.all(live.map((node) => node.ready()));
  balancer = await tcpBalancer(live.map((node) => node.port));

  const streams: Stream[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const made = createClient<R>(balancer.url, { backoff: { baseMs: 20, maxMs: 300 } });
    clients.push(made);
    for (let s = 0; s < STREAMS_PER_CLIENT; s++) {
      const key = rnd.pick(KEYS);
      streams.push({ name: `c${c}s${s}`, key, conn: made.log.getOrCreate(key).connect(), sent: 0, acked: 0, inFlight: new Set() });
    }
  }
  const failures: unknown[] = [];
  let running = true;
  const pump = async (stream: Stream) => {
    while (running) {
      while (stream.inFlight.size < WINDOW && running) {
        const call = stream.conn.add(`${stream.name}:${stream.sent++}`).then(
          () => {
            stream.acked++;
          },
          (error: unknown) => {
            failures.push(error);
          },
        );
        stream.inFlight.add(call);
        void call.finally(() => stream.inFlight.delete(call));
      }
      await Promise.race([...stream.inFlight, sleep(50)]);
    }
  };
  const pumps = streams.map((stream) => pump(stream));

  const log: string[] = [];
  for (let step = 0; step < STEPS; step++) {
    await sleep(300 + rnd.int(700));
    const alive = nodes.filter((node) => node.exit === null && balancer!.targets.includes(node.port));
    const victim = rnd.pick(alive);
    const what = rnd.pick(["kill", "kill", "cut", "pause"] as const);
    log.push(`${what}:${victim.port}`);
    if (what === "kill") {
      await victim.kill();
      balancer.targets = balancer.targets.filter((port) => port !== victim.port);
      const replacement = start();
      await replacement.ready();
      balancer.targets.push(replacement.port);
    } else if (what === "cut") {
      balancer.cut(victim.port);
    } else {
      victim.child.kill("SIGSTOP");
      await sleep(LEASE_MS + 400);
      victim.child.kill("SIGCONT");
    }
  }
  running = false;
  await within(Promise.all(pumps), 5_000, "the pumps stopping");
  await within(Promise.all(streams.flatMap((stream) => [...stream.inFlight])), 30_000, `the last actions (after ${log.join(", ")})`);
  const context = `SEED=${SEED} after ${log.join(", ")}`;
  expect(failures, context).toEqual([]);

  const reader = createClient<R>(balancer.url, { backoff: { baseMs: 20, maxMs: 300 } });
  clients.push(reader);
  for (const key of KEYS) {
    const items = await within(reader.log.get(key).items().catch(() => [] as string[]), 10_000, `items of ${key}`);
    const mine = streams.filter((stream) => stream.key === key);
    for (const stream of mine) {
      const sent = Array.from({ length: stream.sent }, (_, i) => `${stream.name}:${i}`);
      expect(stream.acked, `${context}: ${stream.name} acked all`).toBe(stream.sent);
      expect(items.filter((item) => item.startsWith(`${stream.name}:`)), `${context}: ${stream.name} exactly once, in order`).toEqual(sent);
    }
    expect(items.length, `${context}: nothing else in ${key}`).toBe(mine.reduce((n, stream) => n + stream.sent, 0));
    await waitFor(() => mine.every((stream) => JSON.stringify(stream.conn.state?.items) === JSON.stringify(items)), {
      what: `${context}: every replica of ${key} equals the actor`,
      timeoutMs: 10_000,
    });
    if (items.length > 0) {
      const tokens = await observer.commitTokens(actorId("log", [key]));
      expect(tokens, `${context}: owners of ${key} never interleave`).toEqual([...tokens].sort((x, y) => x - y));
    }
  }
  console.log(`cluster chaos SEED=${SEED}: ${streams.reduce((n, stream) => n + stream.sent, 0)} actions over ${log.join(", ")}`);
}, 120_000);

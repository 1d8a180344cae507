/**
 * Scale-out for real: `tandem serve … --redis` nodes as separate processes, one real
 * redis-server, a plain round-robin TCP balancer in front (tests/support/tcp-balancer.ts).
 * Clients connect through the balancer and land on any node; each actor is live on one node
 * and every other node relays to it. Then what a cluster must survive: an owner paused
 * (SIGSTOP) past its lease — its write, resumed, is refused by Redis — and alarms that fire
 * once, on one node, also after their owner was killed.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient, type Client } from "tandem/client";
import { type RedisDriver, redisDriver } from "tandem/server";
import { actorId } from "../server/runtime/actor-id.ts";
import { sleep, waitFor, within } from "./seed-helpers.ts";
import { registry } from "./support/cluster-registry.ts";
import { RedisServer } from "./support/redis-server.ts";
import { ServeChild } from "./support/serve-child.ts";
import { tcpBalancer, type TcpBalancer } from "./support/tcp-balancer.ts";

type R = typeof registry;
const MODULE = fileURLToPath(new URL("./support/cluster-registry.ts", import.meta.url));
const LEASE_MS = 1000;
const BACKOFF = { baseMs: 20, maxMs: 200 } as const;

let redis: RedisServer;
let observer: RedisDriver;
const nodes: ServeChild[] = [];
const clients: Client<R>[] = [];
let balancer: TcpBalancer;

function startNode(): ServeChild {
  const node = ServeChild.start(MODULE, null, { extraArgs: ["--redis", redis.url, "--lease-ms", String(LEASE_MS)] });
  nodes.push(node);
  return node;
}

function client(url = balancer.url): Client<R> {
  const made = createClient<R>(url, { backoff: BACKOFF });
  clients.push(made);
  return made;
}

beforeAll(async () => {
  redis = await RedisServer.start({ appendonly: true, appendfsync: "always" });
  observer = redisDriver({ url: redis.url, log: { warn() {} } });
  const started = [startNode(), startNode(), startNode()];
  await Promise.all(started.map((node) => node.ready()));
  balancer = await tcpBalancer(started.map((node) => node.port));
}, 60_000);

afterAll(async () => {
  for (const made of clients) made.dispose();
  await balancer?.close();
  await Promise.all(nodes.map((node) => node.terminate(5_000)));
  await observer?.close();
  await redis?.stop();
}, 30_000);

describe("three nodes behind a balancer", () => {
  test("clients land on every node; each actor is live on one; state, events and calls reach everyone", async () => {
    const conns = Array.from({ length: 6 }, () => client().log.getOrCreate("shared").connect());
    await within(Promise.all(conns.map((conn) => conn.whenSynced())), 10_000, "all synced");
    expect(new Set([...balancer.forwarded.keys()]).size).toBe(3); // spread over the three nodes

    const heard = conns.map(() => [] as string[]);
    conns.forEach((conn, i) => conn.on("added", (item) => heard[i]!.push(item as string)));
    const acks = await Promise.all(conns.map((conn, i) => conn.add(`c${i}`)));
    expect([...acks].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
    await waitFor(() => conns.every((conn) => conn.state?.items.length === 6) && heard.every((h) => h.length === 6), { what: "everyone saw every add", timeoutMs: 5000 });
    const expected = conns[0]!.state!.items;
    for (const conn of conns) expect(conn.state!.items).toEqual(expected);

    // Stateless HTTP through the balancer (forwarded to the owner when it lands elsewhere).
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${balancer.url}/actors/log/actions/add`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: ["shared"], args: [`h${i}`] }) });
      expect(response.status).toBe(200);
    }
    await waitFor(() => conns.every((conn) => conn.state?.items.length === 12), { what: "HTTP adds seen", timeoutMs: 5000 });
    const tokens = await observer.commitTokens(actorId("log", ["shared"]));
    expect(new Set(tokens).size).toBe(1); // one owner wrote everything
  }, 30_000);

  test("fencing: an owner paused past its lease resumes, and Redis refuses its write; the action runs once, on the new owner", async () => {
    const owner = nodes.find((node) => node.exit === null)!;
    const direct = client(owner.url!); // pinned to that node
    const conn = direct.log.getOrCreate("fenced").connect();
    await within(conn.whenSynced(), 5000, "synced on the owner");
    expect(await conn.add("first")).toBe(1);
    const refusalsBefore = await observer.refusals();

    const slow = conn.slowAdd("stale", 300); // runs on the owner, writes in 300 ms
    await sleep(50);
    owner.child.kill("SIGSTOP");
    try {
      await sleep(LEASE_MS * 2); // the lease runs out while it sleeps
      const otherNode = nodes.find((node) => node !== owner && node.exit === null)!;
      const viaOther = createClient<R>(otherNode.url!, { backoff: BACKOFF });
      clients.push(viaOther);
      expect(await within(viaOther.log.get("fenced").add("new-owner"), 5000, "the new owner")).toBe(2);
    } finally {
      owner.child.kill("SIGCONT");
    }
    // The resumed owner's write was refused inside Redis; its client resends to the new owner.
    await waitFor(async () => (await observer.refusals()) > refusalsBefore, { what: "a refusal counted in Redis", timeoutMs: 5000 });
    expect(await within(slow, 10_000, "the slow add, resent")).toBe(3);
    const items = await client().log.get("fenced").items();
    expect(items).toEqual(["first", "new-owner", "stale"]);
    const tokens = await observer.commitTokens(actorId("log", ["fenced"]));
    expect(tokens).toEqual([...tokens].sort((x, y) => x - y)); // owners never interleave
  }, 30_000);

  test("Redis restarts (AOF): calls meanwhile fail or wait, never half-apply; then every node serves again with everything acknowledged", async () => {
    const conn = client().log.getOrCreate("redis-restart").connect();
    await within(conn.whenSynced(), 5000, "synced");
    expect(await conn.add("before")).toBe(1);
    await redis.kill();
    // While Redis is down the call waits in the outbox or fails (its commit refused): never half applied.
    const during = conn.add("during").then(
      () => "applied",
      (error: { code?: string }) => error.code ?? "failed",
    );
    await sleep(500);
    await redis.restart();
    expect(["applied", "internal_error"]).toContain(await within(during, 15_000, "the call made while Redis was down"));
    // The connection comes back by itself.
    await waitFor(() => conn.status === "synced", { what: "synced again", timeoutMs: 15_000 });
    expect(await within(conn.add("after"), 10_000, "an add after the restart")).toBeGreaterThan(1);
    const items = await client().log.get("redis-restart").items();
    expect(items[0]).toBe("before");
    expect(items.at(-1)).toBe("after");
    if ((await during) === "applied") expect(items).toEqual(["before", "during", "after"]);
    else expect(items).toEqual(["before", "after"]);
    expect(JSON.stringify(conn.state?.items)).toBe(JSON.stringify(items));
  }, 40_000);

  test("Redis full (maxmemory, noeviction): an action is refused by Redis as a whole and waits in the outbox; once there is room it applies once", async () => {
    const { Redis } = await import("ioredis");
    const admin = new Redis(redis.url);
    try {
      const conn = client().log.getOrCreate("full").connect();
      await within(conn.whenSynced(), 5000, "synced");
      expect(await conn.add("fits")).toBe(1);
      const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);
      await admin.config("SET", "maxmemory-policy", "noeviction");
      await admin.config("SET", "maxmemory", String(Math.floor(used / 2))); // well below what is used: every write refused, whatever else frees memory meanwhile
      const big = conn.add("x".repeat(50_000));
      let settled = false;
      void big.finally(() => (settled = true));
      await sleep(1500); // commits refused meanwhile: the actor reloads, the call is resent (backing off)
      expect(settled).toBe(false);
      expect(conn.pending).toBe(1);
      await admin.config("SET", "maxmemory", "0");
      expect(await within(big, 10_000, "the call once there is room")).toBe(2);
      expect(await within(conn.add("after"), 10_000, "an add with room again")).toBe(3);
      const items = await client().log.get("full").items();
      expect(items.map((item) => item.slice(0, 5))).toEqual(["fits", "xxxxx", "after"]);
    } finally {
      await admin.config("SET", "maxmemory", "0").catch(() => undefined);
      admin.disconnect();
    }
  }, 30_000);

  test("an alarm fires once, on one node, after its owner was killed", async () => {
    const victim = nodes.find((node) => node.exit === null)!;
    const direct = client(victim.url!);
    await direct.log.getOrCreate("alarm").later("fired", 1500);
    await victim.kill();
    balancer.targets = balancer.targets.filter((port) => port !== victim.port);
    const replacement = startNode();
    await replacement.ready();
    balancer.targets.push(replacement.port);
    const reader = client();
    await waitFor(async () => (await reader.log.get("alarm").items()).length > 0, { what: "the alarm fired", timeoutMs: 10_000, intervalMs: 100 });
    await sleep(1500); // no second firing
    expect(await reader.log.get("alarm").items()).toEqual(["fired"]);
  }, 30_000);
});

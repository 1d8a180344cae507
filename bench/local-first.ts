/**
 * Local-first client costs (issue 4): time from reconnect to "synced" with 1,000 queued
 * actions, and the cost of one optimistic action on a 10,000-item state (incremental, and
 * a full rebuild after the confirmed state changes). One JSON line per measurement.
 * Run: npx tsx bench/local-first.ts
 */
import { actor, setup } from "../shared/index.ts";
import { createClient, memoryStorage } from "../client/index.ts";
import { createServer } from "../server/index.ts";
import { tcpProxy } from "../tests/support/tcp-proxy.ts";

const list = actor({
  state: { items: [] as number[] },
  actions: {
    add: (c, n: number) => {
      c.state.items.push(n);
      return c.state.items.length;
    },
    fill: (c, count: number) => {
      for (let i = 0; i < count; i++) c.state.items.push(i);
    },
  },
});
const registry = setup({ use: { list } });
const optimistic = { list: { add: (state: { items: number[] }, n: number) => void state.items.push(n) } };
const waitUntil = async (check: () => boolean, ms = 60_000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
};

const server = createServer(registry, { logger: false });
await server.listen();
const proxy = await tcpProxy(server.port);
try {
  // 1. reconnect with 1,000 queued actions: queued while the server was unreachable, in
  //    storage; a client over that storage connects straight to the server (no proxy hop).
  for (let round = 0; round < 3; round++) {
    const storage = memoryStorage();
    const offline = createClient<typeof registry>("http://127.0.0.1:9", { storage, optimistic, backoff: { baseMs: 60_000, maxMs: 60_000 } });
    const queued = offline.list.getOrCreate(["reconnect", String(round)]).connect();
    for (let i = 0; i < 1000; i++) void queued.add(i).catch(() => undefined);
    await waitUntil(() => queued.outbox.length === 1000 && queued.outbox.every((entry) => entry.seq > 0));
    queued.dispose();
    offline.dispose();
    const start = performance.now();
    const client = createClient<typeof registry>(server.url, { storage, optimistic });
    const conn = client.list.getOrCreate(["reconnect", String(round)]).connect();
    await waitUntil(() => conn.status === "synced" && conn.pending === 0);
    const ms = performance.now() - start;
    if (conn.state!.items.length !== 1000) throw new Error("not all applied");
    console.log(JSON.stringify({ workload: "reconnect → synced with 1,000 queued actions", round, ms: +ms.toFixed(1), perAction_us: +ms.toFixed(0) }));
    conn.dispose();
    client.dispose();
  }

  // 2. one optimistic action on a 10,000-item state
  const client = createClient<typeof registry>(proxy.url, { storage: memoryStorage(), optimistic, backoff: { baseMs: 1, maxMs: 5 } });
  const conn = client.list.getOrCreate("big").connect();
  await conn.whenSynced();
  await conn.fill(10_000);
  proxy.cut();
  await waitUntil(() => conn.status === "offline");
  const rounds = 200;
  let start = performance.now();
  for (let i = 0; i < rounds; i++) {
    void conn.add(i).catch(() => undefined);
    if (conn.state!.items.length !== 10_001 + i) throw new Error("prediction missing");
  }
  const incremental = (performance.now() - start) / rounds;
  // a full rebuild: the first prediction over a fresh draft of the 10,000 items
  const fresh = createClient<typeof registry>(server.url, { storage: memoryStorage(), optimistic });
  const other = fresh.list.getOrCreate("big").connect();
  await other.whenSynced();
  const samples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    const call = other.add(-1);
    if (other.state!.items.length !== 10_001 + i) throw new Error("prediction missing");
    samples.push(performance.now() - t);
    await call;
  }
  samples.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      workload: "one optimistic action on a 10,000-item state",
      incremental_ms: +incremental.toFixed(3),
      first_prediction_over_fresh_state_p50_ms: +samples[25]!.toFixed(3),
    }),
  );
  other.dispose();
  fresh.dispose();
  conn.dispose();
  client.dispose();
} finally {
  await proxy.close();
  await server.close();
}

/**
 * Local-first client costs (issue 4): time from reconnect to "synced" with 1,000 queued
 * actions, and the cost of one optimistic action on a 10,000-item state (incremental, and
 * a full rebuild after the confirmed state changes). One JSON line per measurement.
 * Run: npx tsx bench/local-first.ts
 */
import { actor, setup } from "tandem";
import { createClient, memoryStorage } from "tandem/client";
import { createServer } from "tandem/server";
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
  // 1. reconnect with 1,000 queued actions
  for (const storage of ["memory"] as const) {
    const client = createClient<typeof registry>(proxy.url, { storage: memoryStorage(), optimistic, backoff: { baseMs: 1, maxMs: 5 } });
    const conn = client.list.getOrCreate(["reconnect", storage]).connect();
    await conn.whenSynced();
    proxy.cut();
    await waitUntil(() => conn.status === "offline");
    const calls = Array.from({ length: 1000 }, (_, i) => conn.add(i));
    await waitUntil(() => conn.outbox.every((entry) => entry.seq > 0));
    const start = performance.now();
    proxy.restore();
    await waitUntil(() => conn.status === "synced" && conn.pending === 0);
    const ms = performance.now() - start;
    await Promise.all(calls);
    console.log(JSON.stringify({ workload: "reconnect → synced with 1,000 queued actions", storage, ms: +ms.toFixed(1), perAction_us: +((ms / 1000) * 1000).toFixed(1) }));
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

/**
 * Action round trips against a local server (memory driver): sequential latency over the
 * WebSocket and over HTTP, and pipelined throughput over the WebSocket. Prints one JSON line
 * per measurement, Tandem only (the side-by-side runs are bench/workloads/actions.ts).
 * Run: npx tsx bench/roundtrip.ts
 */
import { actor, setup } from "../shared/index.ts";
import { createClient } from "../client/index.ts";
import { createServer } from "../server/index.ts";

const counter = actor({ state: { n: 0 }, actions: { inc: (c, by: number) => (c.state.n += by) } });
const registry = setup({ use: { counter } });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number; perSecond: number }> {
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  const total = performance.now() - start;
  samples.sort((a, b) => a - b);
  return { p50: +percentile(samples, 50).toFixed(3), p99: +percentile(samples, 99).toFixed(3), perSecond: Math.round((n / total) * 1000) };
}

const server = createServer(registry, { logger: false });
const url = await server.listen();
const client = createClient<typeof registry>(url);
try {
  const handle = client.counter.getOrCreate("bench");
  const conn = handle.connect();
  await conn.whenSynced();
  for (let i = 0; i < 500; i++) await conn.inc(1); // warm up
  console.log(JSON.stringify({ workload: "ws sequential action", driver: "memory", n: 5000, ...(await timed(5000, () => conn.inc(1))) }));
  for (let i = 0; i < 200; i++) await handle.inc(1);
  console.log(JSON.stringify({ workload: "http sequential action", driver: "memory", n: 2000, ...(await timed(2000, () => handle.inc(1))) }));
  const n = 20000;
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, () => conn.inc(1)));
  console.log(JSON.stringify({ workload: "ws pipelined actions", driver: "memory", n, perSecond: Math.round((n / (performance.now() - start)) * 1000) }));
  conn.dispose();
} finally {
  client.dispose();
  await server.close();
}

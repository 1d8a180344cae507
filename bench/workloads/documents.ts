/**
 * Document workloads (issue: 1–4), Tandem against Hocuspocus (the line's anchor) and the
 * y-websocket reference server (in `others`). Tandem's side edits `conn.doc` of a `pad`
 * actor (a Y.Text, canEdit) directly; the anchors' providers edit a Y.Text of their doc.
 * Each peer is its own client and WebSocket; the server runs in its own process.
 *   1. fan-out: 1 writer makes 2,000 one-character edits (2,000 Yjs transactions, back to
 *      back) → 200 connected clients; time until every client has all 2,000.
 *   2. concurrent writers: 200 clients each make 10 one-character edits at random places,
 *      all at once (2,000 edits); time until every client has all 2,000 and all agree.
 *   3. connect and sync: a document made of 2,000 five-character edits at random places;
 *      200 clients connect at once; time until every one has the whole text.
 *   Each line also has the CPU time the server process and the clients' process spent in the
 *   measured phase (serverCpuMs, clientsCpuMs): clients and server share a 2-core machine,
 *   so the wall time is partly the clients' work; serverCpuRatio compares the servers alone.
 *   4. server peak memory: the server's RSS high-water mark (kernel VmHWM) during 1–3, over
 *      its RSS after GC before the clients came.
 */
import { type CaseSpec, type Figures, type ServerHandle, type SideContext, type System, memoryAround, phase, printLine, round, size, within, workload } from "../lib/harness.ts";
import { type DocPeer, docPeers } from "../lib/doc-peers.ts";

const CLIENTS = size(200, 20);
const EDITS = size(2000, 200);
const WRITER_EDITS = size(10, 10);
const SEED_EDITS = size(2000, 200);
const LETTERS = "abcdefghijklmnopqrstuvwxyz";

/** A small seeded PRNG (mulberry32), so every system gets the same edits. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Connects `count` peers at once; resolves with them once every one is synced. */
async function connectAll(connect: (name: string) => DocPeer, name: string, count: number): Promise<DocPeer[]> {
  const peers = Array.from({ length: count }, () => connect(name));
  await within(120_000, `${count} clients to sync`, Promise.all(peers.map((peer) => peer.whenSynced())));
  return peers;
}

/** Resolves when every peer's text has `length` characters; per-peer times from `start`. */
function allReach(peers: DocPeer[], length: number, start: () => number): Promise<number[]> {
  return new Promise((resolve) => {
    const times: number[] = new Array(peers.length);
    let left = peers.length;
    peers.forEach((peer, i) => {
      let done = false;
      const check = () => {
        if (done || peer.length() < length) return;
        done = true;
        times[i] = performance.now() - start();
        if (--left === 0) resolve(times);
      };
      peer.onUpdate(check);
      check();
    });
  });
}

function checkConverged(peers: DocPeer[], length: number): void {
  const expected = peers[0]!.toString();
  if (expected.length !== length) throw new Error(`expected ${length} characters, got ${expected.length}`);
  for (const peer of peers) if (peer.toString() !== expected) throw new Error("the replicas did not converge to the same text");
}

async function withServer(ctx: SideContext, run: (server: ServerHandle, connect: (name: string) => DocPeer) => Promise<Figures>): Promise<Figures> {
  const server = await ctx.startServer(ctx.system, { app: "doc" });
  try {
    const connect = await docPeers(ctx.system, server);
    return await run(server, connect);
  } finally {
    await server.stop();
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

async function fanOut(ctx: SideContext): Promise<Figures> {
  return withServer(ctx, async (server, connect) => {
    const { result, memory } = await memoryAround(server, async () => {
      const [writer] = await connectAll(connect, "fan-out", 1);
      const readers = await connectAll(connect, "fan-out", CLIENTS);
      await settle(); // presence of the newcomers has gone round
      let start = 0;
      const reached = allReach(readers, EDITS, () => start);
      const { value: times, cpu } = await phase(server, "fan-out", async () => {
        start = performance.now();
        for (let i = 0; i < EDITS; i++) writer!.insert(writer!.length(), LETTERS[i % 26]!);
        return within(120_000, "fan-out convergence", reached);
      });
      const ms = Math.max(...times);
      checkConverged([writer!, ...readers], EDITS);
      for (const peer of [writer!, ...readers]) peer.destroy();
      return { convergeMs: round(ms, 1), firstClientMs: round(Math.min(...times), 1), editsPerSecToAll: round((EDITS / ms) * 1000, 0), ...cpu };
    });
    return { clients: CLIENTS, edits: EDITS, ...result, ...memory };
  });
}

async function concurrentWriters(ctx: SideContext): Promise<Figures> {
  return withServer(ctx, async (server, connect) => {
    const { result, memory } = await memoryAround(server, async () => {
      const peers = await connectAll(connect, "writers", CLIENTS);
      await settle();
      const total = CLIENTS * WRITER_EDITS;
      const next = random(42);
      let start = 0;
      const reached = allReach(peers, total, () => start);
      const { value: times, cpu } = await phase(server, "concurrent-writers", async () => {
        start = performance.now();
        for (let round = 0; round < WRITER_EDITS; round++) {
          for (const peer of peers) peer.insert(Math.floor(next() * (peer.length() + 1)), LETTERS[round % 26]!);
        }
        return within(120_000, "writers convergence", reached);
      });
      const ms = Math.max(...times);
      checkConverged(peers, total);
      for (const peer of peers) peer.destroy();
      return { convergeMs: round(ms, 1), editsPerSecToAll: round((total / ms) * 1000, 0), ...cpu };
    });
    return { writers: CLIENTS, editsEach: WRITER_EDITS, ...result, ...memory };
  });
}

async function connectAndSync(ctx: SideContext): Promise<Figures> {
  return withServer(ctx, async (server, connect) => {
    const { result, memory } = await memoryAround(server, async () => {
      // The seeder stays connected: the anchors drop a document nobody is connected to.
      const [seeder] = await connectAll(connect, "sync", 1);
      const next = random(7);
      for (let i = 0; i < SEED_EDITS; i++) seeder!.insert(Math.floor(next() * (seeder!.length() + 1)), "hello");
      const length = SEED_EDITS * 5;
      const [probe] = await connectAll(connect, "sync", 1);
      await within(60_000, "the seed at the server", allReach([probe!], length, () => 0));
      probe!.destroy();
      await settle();
      const start = performance.now();
      const peers: DocPeer[] = [];
      const { value: times, cpu } = await phase(server, "connect-sync", () => {
        for (let i = 0; i < CLIENTS; i++) peers.push(connect("sync"));
        return within(120_000, "clients to sync", allReach(peers, length, () => start));
      });
      const ms = Math.max(...times);
      checkConverged([seeder!, ...peers], length);
      const sorted = [...times].sort((a, b) => a - b);
      for (const peer of [seeder!, ...peers]) peer.destroy();
      return { allSyncedMs: round(ms, 1), p50ClientMs: round(sorted[Math.floor(sorted.length / 2)]!, 1), docChars: length, docEdits: SEED_EDITS, ...cpu };
    });
    return { clients: CLIENTS, ...result, ...memory };
  });
}

/** The server's CPU time in the measured phase, anchor over Tandem (>1: Tandem's server worked less). */
const serverCpu = (t: Figures, anchors: Record<string, Figures>): Figures => ({
  serverCpuRatio: Object.fromEntries(
    Object.entries(anchors).map(([name, a]) => [name, typeof a.serverCpuMs === "number" && typeof t.serverCpuMs === "number" ? round(a.serverCpuMs / t.serverCpuMs, 2) : null]),
  ),
});

const same = (fn: (ctx: SideContext) => Promise<Figures>): Partial<Record<System, typeof fn>> => ({ hocuspocus: fn, "y-websocket": fn });

const cases = {
  "fan-out": {
    title: "fan-out: 1 writer, 2,000 one-character edits → 200 clients",
    what: "time from the first edit until every client has all of them (server in its own process)",
    tandem: fanOut,
    anchors: same(fanOut),
    ratio: (t, a) => (a.convergeMs as number) / (t.convergeMs as number),
    ratioOf: "anchor convergeMs / tandem convergeMs",
    target: "≥ 2× faster than Hocuspocus, at no more memory",
    extra: serverCpu,
    timeoutMs: 240_000,
  },
  "concurrent-writers": {
    title: "concurrent writers: 200 clients × 10 one-character edits at once",
    what: "time from the first edit until every client has all 2,000 and all agree",
    tandem: concurrentWriters,
    anchors: same(concurrentWriters),
    ratio: (t, a) => (a.convergeMs as number) / (t.convergeMs as number),
    ratioOf: "anchor convergeMs / tandem convergeMs",
    target: "≥ 2× faster than Hocuspocus, at no more memory",
    extra: serverCpu,
    timeoutMs: 240_000,
  },
  "connect-sync": {
    title: "connect and sync: 200 clients connect at once to a 2,000-edit document",
    what: "time from creating the 200 clients until every one has the whole text",
    tandem: connectAndSync,
    anchors: same(connectAndSync),
    ratio: (t, a) => (a.allSyncedMs as number) / (t.allSyncedMs as number),
    ratioOf: "anchor allSyncedMs / tandem allSyncedMs",
    extra: serverCpu,
    timeoutMs: 240_000,
  },
} satisfies Record<string, CaseSpec>;

const results = await workload(import.meta.url, cases);

// 4. The server's peak memory in 1–3, from the same runs.
const ran = Object.entries(results);
if (ran.length > 0) {
  const memoryOf = (figures: Figures) =>
    "error" in figures ? { error: figures.error } : { peakRssMB: figures.serverPeakRssMB, peakRssDeltaMB: figures.serverPeakRssDeltaMB, peakHeapDeltaMB: figures.serverPeakHeapDeltaMB };
  const collect = (pick: (result: (typeof results)[string]) => Figures | undefined): Figures => {
    const out: Figures = {};
    let max = 0;
    for (const [name, result] of ran) {
      const figures = pick(result);
      if (!figures) continue;
      out[name] = memoryOf(figures);
      if (typeof figures.serverPeakRssDeltaMB === "number") max = Math.max(max, figures.serverPeakRssDeltaMB);
    }
    return { maxPeakRssDeltaMB: max, ...out };
  };
  const anchorNames = Object.keys(ran[0]![1].anchors);
  printLine(
    {
      title: "server peak memory during fan-out, concurrent writers and connect-sync",
      what: "server process RSS high-water mark (kernel VmHWM, reset before each workload) minus its RSS after GC before the clients came; heap = V8 heap used + external, sampled every 5 ms",
      ratio: (t, a) => (a.maxPeakRssDeltaMB as number) / (t.maxPeakRssDeltaMB as number),
      ratioOf: "anchor maxPeakRssDeltaMB / tandem maxPeakRssDeltaMB (>1: Tandem uses less)",
      target: "no more than Hocuspocus",
    },
    { tandem: collect((r) => r.tandem), anchors: Object.fromEntries(anchorNames.map((name) => [name, collect((r) => r.anchors[name])])) },
  );
}

/**
 * Memory per idle actor and per idle connection (issue: 10). The server runs in its own
 * process with --expose-gc; its memory is taken after a full GC before and after, and the
 * difference divided by the count. "heap" is V8 heap used + external (ArrayBuffers,
 * Buffers): what the objects cost; RSS is printed too (it also moves with the allocator).
 *   - idle actor: 1,000 actors created and called once over HTTP, then left alone
 *     (Tandem against RivetKit, memory drivers);
 *   - idle connection: 200 connections (each its own client and socket) to one actor
 *     (Tandem against RivetKit);
 *   - idle document connection: 200 synced replicas of one small text document (Tandem
 *     against Hocuspocus and the y-websocket server).
 */
import { actionClients } from "../lib/action-clients.ts";
import { docPeers } from "../lib/doc-peers.ts";
import { type CaseSpec, type Figures, type ServerHandle, type SideContext, round, size, sleep, within, workload } from "../lib/harness.ts";

const ACTORS = size(1000, 100);
const CONNECTIONS = size(200, 20);
/**
 * Connections opened and closed before the count: the connection path's code gets compiled
 * and optimized then, so the figure is what a connection holds, not the JIT's one-time code.
 */
const WARM_CONNECTIONS = size(50, 5);
const KB = 1024;

async function perItem(server: ServerHandle, count: number, add: () => Promise<void>): Promise<Figures> {
  const before = await server.memory({ gc: true });
  await add();
  await sleep(500);
  const after = await server.memory({ gc: true });
  return {
    heapPerItemKB: round(((after.heapMB - before.heapMB) * KB * KB) / count / KB, 1),
    rssPerItemKB: round(((after.rssMB - before.rssMB) * KB * KB) / count / KB, 1),
    serverHeapMB: after.heapMB,
    serverRssMB: after.rssMB,
  };
}

async function idleActors(ctx: SideContext): Promise<Figures> {
  const server = await ctx.startServer(ctx.system, { app: "actions", driver: "memory" });
  try {
    const client = (await actionClients(ctx.system, server))();
    await client.counter("first").inc(1); // the HTTP path and the actor type warm
    const figures = await perItem(server, ACTORS, async () => {
      for (let i = 0; i < ACTORS; i += 20) {
        await within(60_000, "actors", Promise.all(Array.from({ length: Math.min(20, ACTORS - i) }, (_, j) => client.counter(`idle-${i + j}`).inc(1))));
      }
    });
    await client.dispose();
    return { actors: ACTORS, ...figures };
  } finally {
    await server.stop();
  }
}

async function idleConnections(ctx: SideContext): Promise<Figures> {
  const server = await ctx.startServer(ctx.system, { app: "actions", driver: "memory" });
  try {
    const newClient = await actionClients(ctx.system, server);
    const first = newClient();
    const firstConn = first.connectCounter("hub");
    await firstConn.ready(); // the actor and one connection exist before the count
    const warmClients = Array.from({ length: WARM_CONNECTIONS }, () => newClient());
    const warmConns = warmClients.map((client) => client.connectCounter("hub"));
    await within(60_000, "warm-up connections", Promise.all(warmConns.map((conn) => conn.ready())));
    await Promise.all(warmConns.map((conn) => conn.dispose()));
    await Promise.all(warmClients.map((client) => client.dispose()));
    await sleep(200);
    const clients = Array.from({ length: CONNECTIONS }, () => newClient());
    const conns = clients.map((client) => client.connectCounter("hub"));
    const figures = await perItem(server, CONNECTIONS, async () => {
      await within(60_000, "connections", Promise.all(conns.map((conn) => conn.ready())));
    });
    await Promise.all([...conns, firstConn].map((conn) => conn.dispose()));
    await Promise.all([...clients, first].map((client) => client.dispose()));
    return { connections: CONNECTIONS, ...figures };
  } finally {
    await server.stop();
  }
}

async function idleDocConnections(ctx: SideContext): Promise<Figures> {
  const server = await ctx.startServer(ctx.system, { app: "doc" });
  try {
    const connect = await docPeers(ctx.system, server);
    const first = connect("idle");
    await first.whenSynced();
    first.insert(0, "a small shared note, typed once");
    await sleep(200);
    const warm = Array.from({ length: WARM_CONNECTIONS }, () => connect("idle"));
    await within(60_000, "warm-up replicas", Promise.all(warm.map((peer) => peer.whenSynced())));
    for (const peer of warm) peer.destroy();
    await sleep(200);
    const peers = Array.from({ length: CONNECTIONS }, () => connect("idle"));
    const figures = await perItem(server, CONNECTIONS, async () => {
      await within(60_000, "replicas", Promise.all(peers.map((peer) => peer.whenSynced())));
    });
    for (const peer of [first, ...peers]) peer.destroy();
    return { connections: CONNECTIONS, ...figures };
  } finally {
    await server.stop();
  }
}

const lessIsBetter = (t: Figures, a: Figures) => (a.heapPerItemKB as number) / (t.heapPerItemKB as number);

await workload(import.meta.url, {
  "idle-actor": {
    title: "memory per idle actor",
    what: "1,000 actors created and called once over HTTP; server heap (used + external) after GC, per actor",
    tandem: idleActors,
    anchors: { rivetkit: idleActors },
    ratio: lessIsBetter,
    ratioOf: "anchor heapPerItemKB / tandem heapPerItemKB (>1: Tandem uses less)",
  },
  "idle-connection": {
    title: "memory per idle connection",
    what: "200 connections (own client, own socket) to one actor; server heap (used + external) after GC, per connection",
    tandem: idleConnections,
    anchors: { rivetkit: idleConnections },
    ratio: lessIsBetter,
    ratioOf: "anchor heapPerItemKB / tandem heapPerItemKB (>1: Tandem uses less)",
  },
  "idle-doc-connection": {
    title: "memory per idle document connection",
    what: "200 synced replicas (own client, own socket) of one small text document; server heap (used + external) after GC, per connection",
    tandem: idleDocConnections,
    anchors: { hocuspocus: idleDocConnections, "y-websocket": idleDocConnections },
    ratio: lessIsBetter,
    ratioOf: "anchor heapPerItemKB / tandem heapPerItemKB (>1: Tandem uses less)",
  },
} satisfies Record<string, CaseSpec>);

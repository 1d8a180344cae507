/**
 * Cold load of a large actor (issue: 9), Tandem's file driver against RivetKit's
 * file-system driver. An actor whose state is a list of 100,000 short strings is written by
 * one server process, which then stops; a new server process over the same directory gets
 * its first call for that actor over HTTP: the time of that call is the actor's cold load
 * (read from disk, decode, answer), the second call's the warm reference.
 * Tandem writes it the way an app would, 1,000 actions of 100 items (its log, compacted
 * every 1,000 commits); RivetKit, whose file driver rewrites the whole state per save,
 * in 20 actions of 5,000 items — what is loaded is the same list either way.
 *
 * And a large document: a Y.Text typed one character at a time, 100,000 updates, stored
 * the way each system stores what it receives (written straight into storage: Tandem's
 * file driver, one commit per update; the y-websocket server's y-leveldb, one entry per
 * update); a new server process, then one client connects: time until it has the whole
 * text. Hocuspocus has no persistence of its own (it needs an extension), so it is not here.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as Y from "yjs";
import { actionClients } from "../lib/action-clients.ts";
import { docPeers } from "../lib/doc-peers.ts";
import { type Figures, type SideContext, round, size, within, workload } from "../lib/harness.ts";
import { anchor, tandemYjs } from "../lib/modules.ts";

const ITEMS = size(100_000, 10_000);
const TYPED = size(100_000, 10_000);
/** Reader processes started over the stored actor, one after another (the median is reported). */
const READS = 3;

async function bytesIn(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    total += entry.isDirectory() ? await bytesIn(full) : (await stat(full)).size;
  }
  return total;
}

async function coldLoad(ctx: SideContext): Promise<Figures> {
  const perAction = ctx.system === "tandem" ? 100 : 5000;
  const dir = await mkdtemp(join(tmpdir(), `cold-${ctx.system}-`));
  try {
    const writer = await ctx.startServer(ctx.system, { app: "actions", driver: "file", dir });
    const writeStart = performance.now();
    try {
      const client = (await actionClients(ctx.system, writer))();
      const conn = client.connectList("big");
      await conn.ready();
      let last = 0;
      for (let from = 0; from < ITEMS; from += perAction) last = await conn.fill(from, perAction);
      if (last !== ITEMS) throw new Error(`expected ${ITEMS} items, got ${last}`);
      await conn.dispose();
      await client.dispose();
    } finally {
      await writer.stop();
    }
    const writeMs = performance.now() - writeStart;
    const bytesOnDisk = await bytesIn(dir);

    // Three new server processes in turn, each timing its first call: the median is the figure
    // (one first call is one sample, and this machine's noise is several milliseconds).
    const runs: Figures[] = [];
    for (let run = 0; run < READS; run++) {
      const reader = await ctx.startServer(ctx.system, { app: "actions", driver: "file", dir });
      try {
        const client = (await actionClients(ctx.system, reader))();
        // The HTTP path warmed on another actor first, so the timed call pays only for the load.
        await client.counter("warm-up").inc(1);
        const handle = client.list("big");
        let start = performance.now();
        const count = await reader.profiled(`cold-load-${run}`, () => handle.count());
        const coldMs = performance.now() - start;
        if (count !== ITEMS) throw new Error(`expected ${ITEMS} items after the load, got ${count}`);
        start = performance.now();
        await handle.count();
        const warmMs = performance.now() - start;
        const memory = await reader.memory({ gc: true });
        await client.dispose();
        runs.push({ coldMs, warmMs, heapMB: memory.heapMB });
      } finally {
        await reader.stop();
      }
    }
    const median = [...runs].sort((a, b) => (a.coldMs as number) - (b.coldMs as number))[Math.floor(READS / 2)]!;
    return {
      items: ITEMS,
      itemsPerAction: perAction,
      writeMs: round(writeMs, 0),
      bytesOnDisk,
      coldFirstCallMs: round(median.coldMs as number, 1),
      coldRunsMs: runs.map((r) => round(r.coldMs as number, 1)),
      warmCallMs: round(median.warmMs as number, 2),
      serverHeapAfterLoadMB: median.heapMB,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A Y.Text typed one character at a time: the updates, as an editor binding produces them. */
function typedUpdates(Yjs: typeof Y, textOf: (doc: Y.Doc) => Y.Text): Uint8Array[] {
  const doc = new Yjs.Doc();
  const updates: Uint8Array[] = [];
  doc.on("update", (update: Uint8Array) => updates.push(update));
  const text = textOf(doc);
  for (let i = 0; i < TYPED; i++) text.insert(text.length, String.fromCharCode(97 + (i % 26)));
  return updates;
}

/** Writes the typed document where the system keeps it; returns the server options to load it. */
async function storeTyped(system: string, dir: string): Promise<Figures> {
  if (system === "tandem") {
    const Yjs = await tandemYjs();
    const { stateRoot } = await import("../../shared/state/index.ts");
    const { fileDriver } = await import("../../server/index.ts");
    const { actorId } = await import("../../server/runtime/actor-id.ts");
    // The pad actor's state: { text: Y.Text } in the state root; the first update creates it.
    const [first, ...rest] = typedUpdates(Yjs, (doc) => {
      const text = new Yjs.Text();
      stateRoot(doc).set("text", text);
      return text;
    });
    const id = actorId("pad", ["big"]);
    const driver = fileDriver({ dir, log: { warn() {} } });
    const lease = await driver.acquire(id);
    await driver.create({ id, name: "pad", key: ["big"], createdAt: Date.now() }, { update: first! }, lease);
    // One commit per update, appended in concurrent waves (group commit) to write it quickly.
    for (let i = 0; i < rest.length; i += 1000) await Promise.all(rest.slice(i, i + 1000).map((update) => driver.append(id, { update }, lease)));
    await driver.close();
    return { app: "doc", driver: "file", dir };
  }
  const Yjs = await anchor<typeof Y>("yjs");
  const { LeveldbPersistence } = await anchor("y-leveldb");
  const updates = typedUpdates(Yjs, (doc) => doc.getText("text")); // what the provider edits
  const store = new LeveldbPersistence(dir);
  for (let i = 0; i < updates.length; i += 1000) await Promise.all(updates.slice(i, i + 1000).map((update) => store.storeUpdate("big", update)));
  await store.destroy();
  return { persistence: dir };
}

async function coldLoadDoc(ctx: SideContext): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), `cold-doc-${ctx.system}-`));
  try {
    const options = await storeTyped(ctx.system, dir);
    const bytesOnDisk = await bytesIn(dir);
    const server = await ctx.startServer(ctx.system, options);
    try {
      const connect = await docPeers(ctx.system, server);
      // The server's WebSocket path warmed on another document first.
      const warm = connect("warm-up");
      await warm.whenSynced();
      const start = performance.now();
      const peer = connect("big");
      await server.profiled("cold-load-doc", () => within(120_000, "the document at the client", new Promise<void>((resolve) => {
        const check = () => peer.length() >= TYPED && resolve();
        peer.onUpdate(check);
        check();
      })));
      const ms = performance.now() - start;
      if (peer.length() !== TYPED) throw new Error(`expected ${TYPED} characters, got ${peer.length()}`);
      const memory = await server.memory({ gc: true });
      warm.destroy();
      peer.destroy();
      return { updates: TYPED, bytesOnDisk, coldSyncMs: round(ms, 1), serverHeapAfterLoadMB: memory.heapMB };
    } finally {
      await server.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await workload(import.meta.url, {
  "cold-load-doc": {
    title: "cold load of a large document actor (100,000 one-character updates)",
    what: "stored update by update (Tandem: file driver log; y-websocket server: y-leveldb); a new server process, one client connects: time until it has the whole text",
    tandem: coldLoadDoc,
    anchors: { "y-websocket": coldLoadDoc },
    ratio: (t, a) => (a.coldSyncMs as number) / (t.coldSyncMs as number),
    ratioOf: "anchor coldSyncMs / tandem coldSyncMs",
    timeoutMs: 300_000,
  },
  "cold-load": {
    title: "cold load of a large actor (100,000 list items), file driver",
    what: "a new server process over the stored actor: time of the first HTTP call to it (load + answer), median of 3 processes; warmCallMs is the next call",
    tandem: coldLoad,
    anchors: { rivetkit: coldLoad },
    ratio: (t, a) => (a.coldFirstCallMs as number) / (t.coldFirstCallMs as number),
    ratioOf: "anchor coldFirstCallMs / tandem coldFirstCallMs",
    timeoutMs: 420_000, // Tandem's writer takes 1–2 minutes (each push costs O(length): see the README)
  },
});

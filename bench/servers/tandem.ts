/**
 * Tandem, as the benchmarks run it: `createServer` on 127.0.0.1, memory or file driver, idle
 * actors never put to sleep (the anchors' are not either). Two apps:
 *   - "doc": `pad`, whose state is one Y.Text that connections edit directly (canEdit);
 *   - "actions": `counter` (inc, tick — an event to every connection) and `list` (a large
 *     state for the cold load).
 * BENCH_INSPECTOR=1 turns the inspector and /metrics on.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Figures } from "../lib/harness.ts";
import { tandemYjs } from "../lib/modules.ts";
import type { StartedServer } from "../lib/server-process.ts";
import { actor, setup } from "../../shared/index.ts";
import { createServer, fileDriver, memoryDriver } from "../../server/index.ts";

export async function registries() {
  const Y = await tandemYjs();
  const pad = actor({
    state: { text: new Y.Text() },
    canEdit: () => true,
    actions: {
      length: (c) => c.state.text.length,
    },
  });
  const counter = actor({
    state: { n: 0 },
    actions: {
      inc: (c, by: number) => (c.state.n += by),
      ping: () => 0,
      tick: (c, i: number) => {
        c.broadcast("tick", i);
        return i;
      },
    },
  });
  const list = actor({
    state: { items: [] as string[] },
    actions: {
      fill: (c, from: number, count: number) => {
        for (let i = from; i < from + count; i++) c.state.items.push(`item-${i}`);
        return c.state.items.length;
      },
      count: (c) => c.state.items.length,
      ping: () => 0,
    },
  });
  return { doc: setup({ use: { pad } }), actions: setup({ use: { counter, list } }) };
}

export type DocRegistry = Awaited<ReturnType<typeof registries>>["doc"];
export type ActionsRegistry = Awaited<ReturnType<typeof registries>>["actions"];

export async function start(options: Figures): Promise<StartedServer> {
  const apps = await registries();
  const file = options.driver === "file";
  const dir = file ? ((options.dir as string | undefined) ?? mkdtempSync(join(tmpdir(), "tandem-bench-"))) : undefined;
  const driver = dir ? fileDriver({ dir, log: { warn() {} } }) : memoryDriver();
  const registry = options.app === "doc" ? apps.doc : apps.actions;
  // BENCH_INSPECTOR=1: the same server with the inspector and /metrics on (what they cost).
  const inspector = process.env.BENCH_INSPECTOR === "1" ? { token: "bench-inspector-token-0123456789" } : undefined;
  const server = createServer(registry as typeof apps.actions, { driver, logger: false, sleepAfterMs: 0, inspector });
  await server.listen({ host: "127.0.0.1", port: 0 });
  return {
    port: server.port,
    info: { driver: file ? "file" : "memory", ...(dir ? { dir } : {}) },
    close: async () => {
      await server.close();
      if (dir && options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * RivetKit (rivetkit 2.0.x, pinned in bench/package.json: the last line with an in-process
 * memory and file-system driver) on 127.0.0.1: its manager router served by @hono/node-server
 * with @hono/node-ws for WebSockets, as its own Node serve does, but bound to loopback.
 * The actors mirror bench/servers/tandem.ts's "actions" app. RivetKit saves state on a
 * throttle (stateSaveInterval); with the file driver, `inc` awaits
 * `c.saveState({ immediate: true })` so that — like Tandem — it persists before it answers
 * (a write + rename, no fsync: RivetKit's file driver never fsyncs).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Figures } from "../lib/harness.ts";
import { anchor } from "../lib/modules.ts";
import type { StartedServer } from "../lib/server-process.ts";

export async function start(options: Figures): Promise<StartedServer> {
  const { actor, setup, createMemoryDriver, createFileSystemDriver } = await anchor("rivetkit");
  const { createNodeWebSocket } = await anchor("@hono/node-ws");
  const { serve } = await anchor("@hono/node-server");
  const file = options.driver === "file";
  const persist = async (c: { saveState(opts: { immediate: boolean }): Promise<void> }) => {
    if (file) await c.saveState({ immediate: true });
  };
  const counter = actor({
    state: { n: 0 },
    actions: {
      inc: async (c: any, by: number) => {
        c.state.n += by;
        await persist(c);
        return c.state.n;
      },
      ping: () => 0,
      tick: async (c: any, i: number) => {
        c.broadcast("tick", i);
        return i;
      },
    },
    options: { noSleep: true },
  });
  const list = actor({
    state: { items: [] as string[] },
    actions: {
      fill: async (c: any, from: number, count: number) => {
        // One assignment, not `count` pushes: every write through RivetKit's state proxy is
        // checked and tracked, and 100,000 pushes take minutes.
        const items = Array.from({ length: count }, (_, i) => `item-${from + i}`);
        c.state.items = [...c.state.items, ...items];
        await persist(c);
        return c.state.items.length;
      },
      count: (c: any) => c.state.items.length,
      ping: () => 0,
    },
    options: { noSleep: true },
  });
  const dir = file ? ((options.dir as string | undefined) ?? mkdtempSync(join(tmpdir(), "rivetkit-bench-"))) : undefined;
  const registry = setup({ use: { counter, list } });
  let upgradeWebSocket: unknown;
  const { fetch } = registry.start({
    driver: dir ? createFileSystemDriver({ path: dir }) : createMemoryDriver(),
    disableDefaultServer: true,
    noWelcome: true,
    getUpgradeWebSocket: () => upgradeWebSocket,
    logging: { level: "error" },
    inspector: { enabled: false },
  });
  // @hono/node-ws asks an app's `request(url, init, env)`; the manager router's fetch is that.
  const app = { request: (url: URL, init: RequestInit, env: unknown) => fetch(new Request(url, init), env) };
  const ws = createNodeWebSocket({ app });
  upgradeWebSocket = ws.upgradeWebSocket;
  const server = await new Promise<any>((resolve) => {
    const listening = serve({ fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(listening));
  });
  ws.injectWebSocket(server);
  return {
    port: server.address().port,
    info: { driver: file ? "file-system (saveState immediate in actions)" : "memory", ...(dir ? { dir } : {}) },
    close: async () => {
      for (const client of ws.wss.clients) client.terminate();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      if (dir && options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

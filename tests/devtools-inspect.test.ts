/**
 * The client's devtools surface, over a real server and real sockets (a TCP proxy takes the
 * client offline):
 * - sync progress (`conn.progress` / `onProgress`): the storage load, the first sync (its
 *   bytes once its one frame is in), and an outbox flush after offline work, counted in
 *   answers of total until nothing is pending;
 * - the inspection API (`client.inspect()`): the tab's role, each connection's status,
 *   state, outbox with statuses (queued, sent, confirmed, rejected with its error),
 *   predictions applied, unconfirmed direct edits; nothing heard before subscribing or
 *   after unsubscribing; snapshots are copies.
 */
import { afterEach, describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup, UserError } from "tandem";
import { type ActorConnection, type Client, createClient, memoryStorage, type SyncProgress } from "tandem/client";
import { createServer, memoryDriver, type TandemServer } from "tandem/server";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";
import { FakeLocks, FakeTab } from "./support/tabs.ts";

const board = actor({
  state: { items: [] as string[], notes: new Y.Text("") },
  canEdit: () => true,
  actions: {
    add: (c, item: string) => {
      if (item.endsWith("!")) throw new UserError("no shouting", { code: "shouting" });
      c.state.items.push(item);
      return item;
    },
  },
});
const registry = setup({ use: { board } });
type R = typeof registry;
type Conn = ActorConnection<R["actors"]["board"]>;

const optimistic = { board: { add: (state: { items: string[] }, item: string) => void state.items.push(item) } };

let server: TandemServer<R> | null = null;
let proxy: TcpProxy | null = null;
const clients: Client<R>[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose();
  await proxy?.close();
  proxy = null;
  await server?.close();
  server = null;
});

async function start(): Promise<{ client: Client<R>; proxy: TcpProxy }> {
  server = createServer(registry, { driver: memoryDriver(), logger: false });
  await server.listen();
  proxy = await tcpProxy(server.port);
  const client = createClient<R>(proxy.url, { storage: memoryStorage(), optimistic, backoff: { baseMs: 5, maxMs: 20 } });
  clients.push(client);
  return { client, proxy };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Takes the client offline, runs `work`, and brings it back. */
async function offlineWhile(conn: Conn, link: TcpProxy, work: () => void): Promise<void> {
  link.cut();
  await until("offline", () => conn.status === "offline");
  work();
  link.restore();
}

describe("sync progress", () => {
  test("load, first sync (bytes of its frame), then nothing under way", async () => {
    const { client } = await start();
    const conn = client.board.getOrCreate("p1").connect();
    expect(conn.progress).toEqual({ phase: "load", unit: "reads", done: 0, total: 1 });
    const seen: (SyncProgress | null)[] = [];
    conn.onProgress((progress) => seen.push(progress));
    await conn.whenSynced();
    expect(conn.progress).toBeNull();
    expect(seen[0]).toBeNull(); // loaded
    const sync = seen.filter((each) => each?.phase === "sync");
    expect(sync[0]).toEqual({ phase: "sync", unit: "bytes", done: 0, total: null });
    const arrived = sync.at(-1)!;
    expect(arrived.total).toBeGreaterThan(0); // the actor's initial state
    expect(arrived.done).toBe(arrived.total);
    expect(seen.at(-1)).toBeNull();
  });

  test("an offline session's actions and edits flush with answers counted of total", async () => {
    const { client, proxy: link } = await start();
    const conn = client.board.getOrCreate("p2").connect();
    await conn.whenSynced();
    const seen: (SyncProgress | null)[] = [];
    conn.onProgress((progress) => seen.push(progress));
    const calls: Promise<unknown>[] = [];
    await offlineWhile(conn, link, () => {
      for (let i = 0; i < 5; i++) calls.push(conn.add(`item ${i}`));
      conn.doc.getMap("state").get("notes"); // the doc's root exists; edit its text directly
      (conn.doc.getMap("state").get("notes") as Y.Text).insert(0, "offline");
      expect(conn.pending).toBe(6);
    });
    await Promise.all(calls);
    await until("synced, nothing pending", () => conn.status === "synced" && conn.pending === 0 && conn.progress === null);
    const flush = seen.filter((each): each is SyncProgress => each?.phase === "flush");
    expect(flush[0]).toEqual({ phase: "flush", unit: "changes", done: 0, total: 6 });
    expect(flush.map((each) => each.done)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const each of flush) expect(each.total).toBe(6);
    expect(seen.at(-1)).toBeNull();
    // the reconnect's sync came before the flush
    expect(seen.findIndex((each) => each?.phase === "sync")).toBeLessThan(seen.findIndex((each) => each?.phase === "flush"));
  });

  test("actions called during a flush raise its total", async () => {
    const { client, proxy: link } = await start();
    const conn = client.board.getOrCreate("p3").connect();
    await conn.whenSynced();
    const seen: SyncProgress[] = [];
    const calls: Promise<unknown>[] = [];
    let late = false;
    conn.onProgress((progress) => {
      if (progress?.phase !== "flush") return;
      seen.push(progress);
      if (progress.done === 1 && !late) {
        late = true; // an action called from the listener itself (re-entrant)
        calls.push(conn.add("late"));
      }
    });
    await offlineWhile(conn, link, () => {
      calls.push(conn.add("a"), conn.add("b"));
    });
    await Promise.all(calls);
    await until("flush over", () => conn.progress === null && conn.pending === 0);
    expect(calls).toHaveLength(3);
    expect(seen[0]).toMatchObject({ done: 0, total: 2 });
    expect(seen.at(-1)).toMatchObject({ done: 2, total: 3 });
  });
});

describe("sync progress across tabs", () => {
  test("a follower tab's flush counts its own changes and ends once everything is answered", async () => {
    const { proxy: link } = await start();
    clients.splice(0).forEach((client) => client.dispose()); // tabs of their own below
    const storage = { ...memoryStorage(), shared: `devtools-${process.pid}-${Date.now()}` };
    const locks = new FakeLocks();
    const open = async (name: string) => {
      const tab = new FakeTab(name, locks);
      const client = createClient<R>(link.url, { storage, optimistic, multiTab: tab.multiTab, socketFactory: tab.socketFactory, backoff: { baseMs: 5, maxMs: 20 } });
      clients.push(client);
      await client.ready;
      return client;
    };
    const leaderClient = await open("leader");
    const leader = leaderClient.board.getOrCreate("tabs").connect();
    await leader.whenSynced();
    // The leader works offline; a follower tab opens meanwhile (it mirrors the leader's pending actions) and adds its own.
    link.cut();
    await until("offline", () => leader.status === "offline");
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) calls.push(leader.add(`leader ${i}`));
    const followerClient = await open("follower");
    const follower = followerClient.board.getOrCreate("tabs").connect();
    const seen: (SyncProgress | null)[] = [];
    follower.onProgress((progress) => seen.push(progress));
    await until("the follower mirrors the leader", () => follower.pending === 3);
    expect(leaderClient.inspect().snapshot().tab.role).toBe("leader");
    expect(followerClient.inspect().snapshot().tab).toMatchObject({ role: "follower", leaderTab: leaderClient.inspect().snapshot().tab.tabId });
    calls.push(follower.add("follower"));
    link.restore();
    await Promise.all(calls);
    await until("both synced", () => [leader, follower].every((conn) => conn.status === "synced" && conn.pending === 0));
    await until("no progress under way", () => leader.progress === null && follower.progress === null);
    for (const each of seen) if (each?.phase === "flush") expect(each.total).toBeLessThanOrEqual(1); // its own change only, never the leader's
  });
});

describe("client.inspect()", () => {
  test("shows the tab, each connection's state, outbox statuses, predictions and unconfirmed edits", async () => {
    const { client, proxy: link } = await start();
    const conn = client.board.getOrCreate("i1").connect();
    await conn.whenSynced();
    await conn.add("before"); // settled before anyone inspected: not in `settled`
    const inspector = client.inspect();
    expect(client.inspect()).toBe(inspector);
    let heard = 0;
    const stop = inspector.subscribe(() => heard++);

    const first = inspector.snapshot();
    expect(first.clientId).toBe(client.clientId);
    expect(first.storage).toBe("memory");
    expect(first.tab).toMatchObject({ role: "alone", leaderTab: null, epoch: 0 });
    expect(first.connections).toHaveLength(1);
    const c0 = first.connections[0]!;
    expect(c0).toMatchObject({ name: "board", status: "synced", canEdit: true, refs: 1, outbox: [], settled: [], predictions: [], progress: null, inMemory: false });
    expect(c0.actorId).toBe(conn.actorId);
    expect(c0.state).toMatchObject({ items: ["before"], notes: "" });

    const calls: Promise<unknown>[] = [];
    await offlineWhile(conn, link, () => {
      calls.push(conn.add("ok"), conn.add("loud!").catch((error: unknown) => error));
      (conn.doc.getMap("state").get("notes") as Y.Text).insert(0, "hi");
      const offline = inspector.snapshot().connections[0]!;
      expect(offline.status).toBe("offline");
      expect(offline.outbox.map((entry) => [entry.name, entry.args[0], entry.status])).toEqual([
        ["add", "ok", "queued"],
        ["add", "loud!", "queued"],
      ]);
      expect(offline.predictions.map((each) => each.name)).toEqual(["add", "add"]);
      expect(offline.unconfirmedEdits.count).toBe(1);
      expect(offline.unconfirmedEdits.bytes).toBeGreaterThan(0);
      expect(offline.state).toMatchObject({ items: ["before"], notes: "hi" }); // the doc: edits yes, predictions no
    });
    await Promise.all(calls);
    await until("synced", () => conn.status === "synced" && conn.pending === 0);
    await Promise.resolve();
    const after = inspector.snapshot().connections[0]!;
    expect(after.outbox).toEqual([]);
    expect(after.unconfirmedEdits).toEqual({ count: 0, bytes: 0 });
    expect(after.settled.map((entry) => [entry.args[0], entry.status, entry.error?.code])).toEqual([
      ["ok", "confirmed", undefined],
      ["loud!", "rejected", "shouting"],
    ]);
    expect(after.state).toMatchObject({ items: ["before", "ok"], notes: "hi" });
    expect(heard).toBeGreaterThan(0);

    // a snapshot is a copy: changing it changes nothing
    (after.state!.items as string[]).push("forged");
    (after.settled as unknown[]).length = 0;
    expect(conn.state!.items).toEqual(["before", "ok"]);
    expect(inspector.snapshot().connections[0]!.settled).toHaveLength(2);

    // unsubscribed: nothing heard, nothing kept
    stop();
    stop(); // twice is harmless
    const count = heard;
    await conn.add("unseen");
    await Promise.resolve();
    expect(heard).toBe(count);
    expect(inspector.snapshot().connections[0]!.settled).toEqual([]);
  });

  test("connections made and disposed while subscribed show and go; a throwing listener does not stop others", async () => {
    const { client } = await start();
    const inspector = client.inspect();
    let calm = 0;
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      const stops = [
        inspector.subscribe(() => {
          throw new Error("listener bug");
        }),
        inspector.subscribe(() => calm++),
      ];
      const a = client.board.getOrCreate("i2").connect();
      const b = client.board.getOrCreate("i3").connect();
      await Promise.all([a.whenSynced(), b.whenSynced()]);
      expect(inspector.snapshot().connections.map((each) => each.target)).toEqual([
        { by: "key", mode: "getOrCreate", key: ["i2"], input: undefined },
        { by: "key", mode: "getOrCreate", key: ["i3"], input: undefined },
      ]);
      await a.add("x");
      a.dispose();
      await Promise.resolve();
      expect(inspector.snapshot().connections).toHaveLength(1);
      expect(calm).toBeGreaterThan(0);
      expect(errors.length).toBeGreaterThan(0);
      for (const stop of stops) stop();
      b.dispose();
    } finally {
      console.error = original;
    }
  });
});

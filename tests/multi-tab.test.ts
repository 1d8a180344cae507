/**
 * Multi-tab (DESIGN §4): tabs of one origin over one storage elect a leader (Web Locks)
 * that alone holds the WebSocket and the outbox; followers relay through it over a
 * BroadcastChannel; when the leader closes or crashes another takes over and nothing any
 * tab queued is lost or applied twice; a user shows once in presence however many tabs.
 * Tabs here are clients in one Node process with a shared storage, a Web Locks stand-in
 * (tests/support/tabs.ts) and Node's real BroadcastChannel; the server and sockets are real.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup, UserError } from "tandem";
import { type ClientStorage, memoryStorage } from "tandem/client";
import { memoryDriver } from "tandem/server";
import { waitFor } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { CloseCode, Kind, PROTOCOL_VERSION } from "../shared/protocol/index.ts";
import { FakeLocks, FakeTab } from "./support/tabs.ts";

const applied: string[] = [];

const board = actor({
  state: { notes: new Y.Text(""), todos: [] as { id: string; text: string }[] },
  onAuth: ({ params }) => ({ userId: String((params as { user?: unknown } | undefined)?.user ?? "anon") }),
  canEdit: () => true,
  actions: {
    add: (c, id: string, text: string) => {
      if (text.length > 20) throw new UserError("Too long", { code: "too_long" });
      applied.push(id);
      c.state.todos.push({ id, text });
      return c.state.todos.length;
    },
    list: (c) => c.state.todos,
  },
});
const registry = setup({ use: { board } });
type R = typeof registry;

const optimistic = {
  board: {
    add: (state: { todos: { id: string; text: string }[] }, id: string, text: string) => {
      state.todos.push({ id, text });
    },
  },
};

let storageCount = 0;
/** A storage the tabs of one "origin" share (its name scopes the lock and the channel). */
function sharedStorage(): ClientStorage {
  return { ...memoryStorage(), shared: `multi-tab-test-${process.pid}-${++storageCount}` };
}

const notes = (doc: Y.Doc) => doc.getMap("state").get("notes") as Y.Text;
const ids = (todos: readonly { id: string }[] | undefined) => (todos ?? []).map((todo) => todo.id);

describe("multi-tab", () => {
  const net = useNetwork();

  async function browser(url: string, count: number, user = "alice") {
    const storage = sharedStorage();
    const locks = new FakeLocks();
    const tabs = [];
    for (let i = 0; i < count; i++) tabs.push(await openTab(url, storage, locks, `${user}-${i}`, user));
    return { storage, locks, tabs, open: (name: string) => openTab(url, storage, locks, name, user) };
  }

  async function openTab(url: string, storage: ClientStorage, locks: FakeLocks, name: string, user: string) {
    const tab = new FakeTab(name, locks);
    const client = net.client<R>(url, { storage, optimistic, multiTab: tab.multiTab, socketFactory: tab.socketFactory });
    await client.ready;
    const conn = client.board.getOrCreate("b", { params: { user } }).connect();
    return { tab, client, conn };
  }

  test("three tabs share one WebSocket; a follower's action and edit reach the server and every tab", async () => {
    applied.length = 0;
    const server = await net.server(registry, { driver: memoryDriver() });
    const proxy = await net.proxy(server.port);
    const { tabs } = await browser(proxy.url, 3);
    await Promise.all(tabs.map(({ conn }) => conn.whenSynced()));
    expect(proxy.open).toBe(1);
    expect(proxy.accepted).toBe(1);

    // an action in a follower: its promise gets the server's result, every tab shows it
    const [leader, second, third] = tabs;
    await expect(second!.conn.add("a", "from a follower")).resolves.toBe(1);
    expect(ids(await server.client.board.getOrCreate("b").list())).toEqual(["a"]);
    for (const { conn } of tabs) await waitFor(() => ids(conn.state?.todos).join() === "a", { what: "the todo in every tab" });

    // a direct edit in a follower reaches the server and the other tabs
    notes(second!.conn.doc).insert(0, "hello from tab 2");
    for (const { conn } of [leader!, third!]) await waitFor(() => notes(conn.doc).toString() === "hello from tab 2", { what: "the edit in every tab" });
    const other = net.client<R>(server.url);
    const reader = other.board.getOrCreate("b", { params: { user: "bob" } }).connect();
    await reader.whenSynced();
    await waitFor(() => notes(reader.doc).toString() === "hello from tab 2", { what: "the edit at the server" });

    // a follower's rejected action: its promise rejects, the prediction goes
    await expect(third!.conn.add("x", "this text is far too long to keep")).rejects.toMatchObject({ code: "too_long" });
    for (const { conn } of tabs) await waitFor(() => ids(conn.state?.todos).join() === "a", { what: "the rollback" });
    for (const { conn } of tabs) await conn.whenSynced();
    expect(proxy.accepted).toBe(1);
    expect(applied).toEqual(["a"]);
  });

  test("the leader closes: another tab takes over within a second, and what a follower queued meanwhile is applied once", async () => {
    applied.length = 0;
    const server = await net.server(registry, { driver: memoryDriver() });
    const proxy = await net.proxy(server.port);
    const { tabs } = await browser(proxy.url, 3);
    await Promise.all(tabs.map(({ conn }) => conn.whenSynced()));
    const [leader, second, third] = tabs;
    await second!.conn.add("a", "before");

    const closedAt = Date.now();
    leader!.client.dispose();
    const during = third!.conn.add("b", "during the takeover");
    await expect(during).resolves.toBe(2);
    await waitFor(() => proxy.open === 1 && proxy.accepted === 2, { what: "one new socket" });
    const tookMs = Date.now() - closedAt;
    expect(tookMs).toBeLessThan(5_000); // a second, give or take a loaded machine
    await expect(second!.conn.add("c", "after")).resolves.toBe(3);
    for (const { conn } of [second!, third!]) {
      await waitFor(() => ids(conn.state?.todos).join() === "a,b,c", { what: "every todo in the remaining tabs" });
      await conn.whenSynced();
    }
    expect(applied).toEqual(["a", "b", "c"]);
    expect(proxy.open).toBe(1);
  });

  test("offline: actions queued in every tab survive the leader crashing, and apply exactly once after the reconnect", async () => {
    applied.length = 0;
    const server = await net.server(registry, { driver: memoryDriver() });
    const proxy = await net.proxy(server.port);
    const b = await browser(proxy.url, 3);
    const [leader, second, third] = b.tabs;
    await Promise.all(b.tabs.map(({ conn }) => conn.whenSynced()));

    proxy.cut();
    for (const { conn } of b.tabs) await waitFor(() => conn.status === "offline", { what: "offline everywhere" });
    const promises = [leader!.conn.add("l1", "leader one"), second!.conn.add("s1", "second one"), third!.conn.add("t1", "third one"), second!.conn.add("s2", "second two")];
    for (const promise of promises) promise.catch(() => undefined);
    // every tab shows every tab's prediction
    for (const { conn } of b.tabs) await waitFor(() => ids(conn.state?.todos).sort().join() === "l1,s1,s2,t1", { what: "all predictions in every tab" });
    for (const { conn } of b.tabs) await waitFor(() => conn.pending === 4, { what: "4 pending everywhere" });
    notes(second!.conn.doc).insert(0, "typed offline");
    await waitFor(() => notes(leader!.conn.doc).toString() === "typed offline", { what: "the edit at the leader" });
    await waitFor(() => leader!.conn.outbox.every((entry) => entry.seq > 0) && leader!.conn.outbox.length === 4, { what: "the leader to store all four" });

    // the leader crashes (no goodbye); a follower takes over, still offline
    const docs = [second!.conn.doc, third!.conn.doc]; // a takeover keeps them: editors stay bound
    let replaced = 0;
    for (const { conn } of [second!, third!]) conn.onDoc(() => replaced++);
    leader!.tab.kill();
    leader!.client.dispose();
    const survivors = [second!, third!];
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const { conn } of survivors) expect(ids(conn.state?.todos).sort().join()).toBe("l1,s1,s2,t1");

    proxy.restore();
    await Promise.all([promises[1], promises[2], promises[3]]);
    for (const { conn } of survivors) {
      await waitFor(() => conn.status === "synced" && conn.pending === 0, { what: "synced after the takeover", timeoutMs: 10_000 });
      expect(ids(conn.state?.todos)).toEqual(ids(await server.client.board.getOrCreate("b").list()));
    }
    expect([...applied].sort()).toEqual(["l1", "s1", "s2", "t1"]);
    expect(second!.conn.doc).toBe(docs[0]);
    expect(third!.conn.doc).toBe(docs[1]);
    expect(replaced).toBe(0);
    expect(applied.indexOf("s1")).toBeLessThan(applied.indexOf("s2"));
    const reader = net.client<R>(server.url).board.getOrCreate("b", { params: { user: "bob" } }).connect();
    await reader.whenSynced();
    await waitFor(() => notes(reader.doc).toString() === "typed offline", { what: "the offline edit at the server" });
    expect(proxy.open).toBe(1);
  });

  test("an edit typed while the leader crashes is sent by the tab that takes over, in the same doc", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const b = await browser(server.url, 2);
    const [leader, follower] = b.tabs;
    await Promise.all(b.tabs.map(({ conn }) => conn.whenSynced()));
    notes(follower!.conn.doc).insert(0, "before ");
    await waitFor(() => notes(leader!.conn.doc).toString() === "before ", { what: "the first edit at the leader" });
    const doc = follower!.conn.doc;
    leader!.tab.kill();
    leader!.client.dispose();
    notes(follower!.conn.doc).insert(7, "during"); // the old leader never hears of it
    await waitFor(() => follower!.conn.status === "synced" && follower!.conn.pending === 0, { what: "the follower leads and is synced" });
    expect(follower!.conn.doc).toBe(doc);
    const reader = net.client<R>(server.url).board.getOrCreate("b", { params: { user: "bob" } }).connect();
    await reader.whenSynced();
    await waitFor(() => notes(reader.doc).toString() === "before during", { what: "both edits at the server" });
  });

  test("presence: a user with three tabs shows once; the state of the tab last used is the one others see", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const { tabs } = await browser(server.url, 3);
    await Promise.all(tabs.map(({ conn }) => conn.whenSynced()));
    const other = net.client<R>(server.url).board.getOrCreate("b", { params: { user: "bob" } }).connect();
    await other.whenSynced();
    other.awareness.setLocalState({ cursor: 0 });

    tabs[0]!.conn.awareness.setLocalState({ cursor: 1 });
    tabs[1]!.conn.awareness.setLocalState({ cursor: 2 });
    tabs[2]!.conn.awareness.setLocalState({ cursor: 3 });
    const alices = () => [...other.awareness.getStates().values()].filter((state) => (state.user as { userId?: string } | undefined)?.userId === "alice");
    await waitFor(() => alices().length === 1 && alices()[0]!.cursor === 3, { what: "alice once, at tab 3's cursor" });
    tabs[1]!.conn.awareness.setLocalStateField("cursor", 22);
    await waitFor(() => alices().length === 1 && alices()[0]!.cursor === 22, { what: "alice at tab 2's new cursor" });
    // every tab sees bob, and none sees alice as someone else
    for (const { conn } of tabs) {
      await waitFor(() => [...conn.awareness.getStates().values()].some((state) => state.cursor === 0), { what: "bob in every tab" });
      const others = [...conn.awareness.getStates().entries()].filter(([id]) => id !== conn.awareness.clientID);
      expect(others.map(([, state]) => (state.user as { userId?: string }).userId)).toEqual(["bob"]);
    }
    // the tab that spoke last leaves: the most recent of the others shows
    tabs[1]!.client.dispose();
    await waitFor(() => alices().length === 1 && alices()[0]!.cursor === 3, { what: "alice back at tab 3's cursor" });
  });

  test("without Web Locks or BroadcastChannel every tab has its own connection", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const proxy = await net.proxy(server.port);
    const storage = sharedStorage();
    const conns = [0, 1].map(() => net.client<R>(proxy.url, { storage, multiTab: false }).board.getOrCreate("b").connect());
    await Promise.all(conns.map((conn) => conn.whenSynced()));
    expect(proxy.open).toBe(2);
    await conns[1]!.add("z", "own socket");
    await waitFor(() => ids(conns[0]!.state?.todos).join() === "z", { what: "the other tab" });
  });

  test("a follower ignores a stale leader; a new follower finds the current one", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const b = await browser(server.url, 2);
    await Promise.all(b.tabs.map(({ conn }) => conn.whenSynced()));
    // a message of an older term, as a frozen ex-leader would send it
    const channel = new BroadcastChannel(`tandem ${b.storage.shared}`);
    channel.postMessage({ t: "down", epoch: 0, to: "anyone", ch: 1, msg: { kind: "update", update: new Uint8Array([0, 0]) } });
    channel.postMessage({ t: "leader", epoch: 0, from: "ghost" });
    const late = await b.open("late");
    await late.conn.whenSynced();
    await late.conn.add("l", "late tab");
    for (const { conn } of [...b.tabs, late]) await waitFor(() => ids(conn.state?.todos).join() === "l", { what: "the late tab's todo everywhere" });
    channel.close();
    expect(b.tabs.every(({ conn }) => conn.status === "synced")).toBe(true);
  });

  test("the server fences leader terms per identity: a socket of an older epoch is closed, a newer one closes the older leader's socket", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const open = async (epoch: number, user = "u") => {
      const socket = await net.raw(server.url);
      socket.send({ kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId: "browser-1", epoch });
      socket.send({ kind: Kind.subscribe, channel: 1, name: "board", target: { by: "key", mode: "getOrCreate", key: ["b"] }, params: { user }, stateVector: new Uint8Array() });
      return socket;
    };
    const second = await open(2);
    await second.next(Kind.subscribed);
    const stale = await open(1); // a frozen ex-leader waking up: closed once it shows who it is
    expect((await stale.nextError(0)).error.code).toBe("superseded");
    expect((await stale.closed).code).toBe(CloseCode.superseded);
    const third = await open(3); // the next term: the term-2 socket must go
    await third.next(Kind.subscribed);
    expect((await second.closed).code).toBe(CloseCode.superseded);
    // sockets without tabs (epoch 0) and other identities are never fenced
    const plain = await net.raw(server.url);
    plain.send({ kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId: "browser-1" });
    await plain.next(Kind.welcome);
    const stranger = await open(99, "someone-else");
    await stranger.next(Kind.subscribed);
    expect(third.closeInfo).toBeNull();
    // a superseded client keeps trying (it is not failed for good) and gets in once the newer term is gone
    const tab = new FakeTab("stale-tab", new FakeLocks());
    const fenced = net.client<R>(server.url, { clientId: "browser-1", storage: sharedStorage(), multiTab: tab.multiTab, socketFactory: tab.socketFactory });
    const conn = fenced.board.getOrCreate("b", { params: { user: "u" } }).connect();
    // its epoch starts at 1 in a fresh storage: older than term 3
    const outcome = conn.whenSynced().then(
      () => "synced",
      (error: { code: string }) => error.code,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(conn.status).not.toBe("synced");
    await third.close();
    expect(await outcome).toBe("synced");
  });
});

/**
 * Sharing: every `connect()` to the same actor and params in one client is one server
 * connection (ref-counted: the last dispose closes it), and every actor of a client rides
 * one WebSocket.
 */
import { describe, expect, test } from "vitest";
import { actor, event, setup } from "tandem";
import { sleep, waitFor } from "./seed-helpers.ts";
import { Kind, PROTOCOL_VERSION } from "../shared/protocol/index.ts";
import { useNetwork } from "./support/raw-socket.ts";

const hooks = { connects: 0, disconnects: 0, connIds: [] as string[] };

const counter = actor({
  state: { count: 0 },
  events: { changed: event<number>() },
  onConnect: (_c, conn) => {
    hooks.connects++;
    hooks.connIds.push(conn.id);
  },
  onDisconnect: () => {
    hooks.disconnects++;
  },
  actions: {
    increment: (c) => {
      c.state.count++;
      c.broadcast("changed", c.state.count);
      return c.state.count;
    },
    liveConns: (c) => c.conns.size,
  },
});

const other = actor({
  state: { items: [] as string[] },
  actions: {
    add: (c, item: string) => {
      c.state.items.push(item);
      return c.state.items.length;
    },
  },
});

const registry = setup({ use: { counter, other } });
type R = typeof registry;

const net = useNetwork();

function resetHooks(): void {
  hooks.connects = 0;
  hooks.disconnects = 0;
  hooks.connIds.length = 0;
}

/**
 * A server whose /connect upgrade requests are counted (an onRequest hook added before
 * listen), and whose upgraded TCP sockets are counted while open (the HTTP server's
 * `upgrade` event).
 */
async function countingServer() {
  const upgrades: string[] = [];
  let open = 0;
  const server = await net.server(registry, {
    beforeListen: (s) => {
      s.app.addHook("onRequest", async (request) => {
        if (request.url.startsWith("/connect")) upgrades.push(request.url);
      });
      s.app.server.on("upgrade", (_request, socket) => {
        open++;
        socket.once("close", () => open--);
      });
    },
  });
  return { server, upgrades, openSockets: () => open };
}

describe("shared subscriptions", () => {
  test("two connect() on the same handle and params are one server connection", async () => {
    resetHooks();
    const { server, upgrades } = await countingServer();
    const client = net.client<R>(server.url);
    const handle = client.counter.getOrCreate("shared", { params: { token: "t" } });
    const first = handle.connect();
    const second = handle.connect();
    // A second handle object for the same actor and params shares it too.
    const third = client.counter.getOrCreate("shared", { params: { token: "t" } }).connect();
    await Promise.all([first.whenSynced(), second.whenSynced(), third.whenSynced()]);
    expect(hooks.connects).toBe(1);
    expect(await first.liveConns()).toBe(1);
    expect(upgrades).toHaveLength(1);
    expect(first.doc).toBe(second.doc);

    const seen = { first: [] as number[], second: [] as number[] };
    first.on("changed", (n) => seen.first.push(n));
    second.on("changed", (n) => seen.second.push(n));
    await first.increment();
    await waitFor(() => seen.first.length === 1 && seen.second.length === 1, { what: "the event on both" });

    // Disposing one keeps the others alive: same server connection, still synced, still live.
    first.dispose();
    third.dispose();
    expect(second.status).toBe("synced");
    expect(await second.increment()).toBe(2);
    expect(second.state?.count).toBe(2);
    await waitFor(() => seen.second.length === 2, { what: "the event after one dispose" });
    expect(seen.first).toEqual([1]); // the disposed connection's listener is gone
    expect(hooks.disconnects).toBe(0);
    expect(hooks.connects).toBe(1);

    // Disposing the last one closes the server connection: onDisconnect runs once.
    second.dispose();
    await waitFor(() => hooks.disconnects === 1, { what: "onDisconnect" });
    await sleep(20);
    expect(hooks.disconnects).toBe(1);
    expect(await server.client.counter.get("shared").liveConns()).toBe(0);
  });

  test("different params are different connections", async () => {
    resetHooks();
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const a = client.counter.getOrCreate("p", { params: { token: "a" } }).connect();
    const b = client.counter.getOrCreate("p", { params: { token: "b" } }).connect();
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    expect(hooks.connects).toBe(2);
    expect(await a.liveConns()).toBe(2);
    a.dispose();
    await waitFor(() => hooks.disconnects === 1, { what: "onDisconnect of a" });
    expect(await b.liveConns()).toBe(1);
  });

  test("a connect() after every earlier one was disposed subscribes again", async () => {
    resetHooks();
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const handle = client.counter.getOrCreate("again");
    const first = handle.connect();
    await first.whenSynced();
    await first.increment();
    first.dispose();
    const second = handle.connect();
    await second.whenSynced();
    expect(second.state?.count).toBe(1);
    expect(await second.increment()).toBe(2);
    await waitFor(() => hooks.disconnects === 1, { what: "the first connection's onDisconnect" });
    expect(hooks.connects).toBe(2);
    expect(await second.liveConns()).toBe(1);
  });
});

describe("one socket for every actor", () => {
  test("N actors connected from one client use exactly one WebSocket", async () => {
    resetHooks();
    const { server, upgrades, openSockets } = await countingServer();
    const client = net.client<R>(server.url);
    const counters = Array.from({ length: 8 }, (_, i) => client.counter.getOrCreate(`c${i}`).connect());
    const lists = Array.from({ length: 4 }, (_, i) => client.other.getOrCreate(["list", String(i)]).connect());
    await Promise.all([...counters, ...lists].map((conn) => conn.whenSynced()));
    const results = await Promise.all(counters.map((conn) => conn.increment()));
    expect(results).toEqual(counters.map(() => 1));
    expect(await Promise.all(lists.map((conn, i) => conn.add(`item-${i}`)))).toEqual([1, 1, 1, 1]);
    expect(upgrades).toHaveLength(1);
    expect(openSockets()).toBe(1);
    expect(hooks.connects).toBe(8);
    // Each actor saw its own single connection.
    expect(await Promise.all(counters.map((conn) => conn.liveConns()))).toEqual(counters.map(() => 1));
    // Stateless calls do not open sockets.
    await client.counter.get("c0").increment();
    expect(upgrades).toHaveLength(1);

    // The socket stays while any channel remains, and closes after the last one.
    for (const conn of [...counters, ...lists.slice(1)]) conn.dispose();
    expect(await lists[0]!.add("still here")).toBe(2);
    expect(openSockets()).toBe(1);
    lists[0]!.dispose();
    await waitFor(() => openSockets() === 0, { what: "the socket to close after the last dispose" });
    await waitFor(() => hooks.disconnects === 8, { what: "every onDisconnect" });
  });

  test("a second client has a socket of its own", async () => {
    const { server, upgrades, openSockets } = await countingServer();
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const ca = [a.counter.getOrCreate("x").connect(), a.other.getOrCreate("y").connect()];
    const cb = [b.counter.getOrCreate("x").connect(), b.other.getOrCreate("y").connect()];
    await Promise.all([...ca, ...cb].map((conn) => conn.whenSynced()));
    expect(upgrades).toHaveLength(2);
    expect(openSockets()).toBe(2);
  });
});

describe("batches: a turn's frames in one message (protocol 2)", () => {
  test("a version 2 socket gets a turn's acks and events batched; a version 1 socket the same frames one by one", async () => {
    const server = await net.server(registry);
    const frames = async (version: number) => {
      const socket = await net.raw(server.url);
      socket.send({ kind: Kind.hello, channel: 0, version, clientId: `client-v${version}` });
      socket.send({ kind: Kind.subscribe, channel: 1, name: "counter", target: { by: "key", mode: "getOrCreate", key: [`batch-v${version}`] }, params: undefined, stateVector: new Uint8Array() });
      await socket.next(Kind.subscribed);
      // Sent at once: the server runs them in one turn and answers them together.
      for (let id = 1; id <= 20; id++) socket.send({ kind: Kind.action, channel: 1, id, name: "increment", args: [], seq: 0 });
      await socket.next(Kind.ack, (m) => m.id === 20);
      const acks = socket.all(Kind.ack).map((m) => [m.id, m.ok && m.result]);
      const events = socket.all(Kind.event).map((m) => m.payload);
      expect(socket.undecodable).toEqual([]);
      return { acks, events, batches: socket.batches };
    };
    const v2 = await frames(PROTOCOL_VERSION);
    const v1 = await frames(1);
    const expected = Array.from({ length: 20 }, (_, i) => [i + 1, i + 1]);
    expect(v2.acks).toEqual(expected);
    expect(v1.acks).toEqual(expected);
    expect(v2.events).toEqual(v1.events);
    expect(v1.batches).toEqual([]);
    expect(v2.batches.length).toBeGreaterThan(0);
    expect(v2.batches.some((batch) => batch.filter((m) => m.kind === Kind.ack).length > 1)).toBe(true);
  });

  test("the library client reads batches: every answer and event, in order", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const conn = client.counter.getOrCreate("batched").connect();
    const seen: number[] = [];
    conn.on("changed", (n) => seen.push(n));
    await conn.whenSynced();
    const results = await Promise.all(Array.from({ length: 200 }, () => conn.increment()));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    await waitFor(() => seen.length === 200, { what: "every event" });
    expect(seen).toEqual(results);
    expect(conn.state?.count).toBe(200);
  });
});

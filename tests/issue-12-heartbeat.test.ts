/**
 * Issue 12, item 11: a silently dead link is noticed, on both ends. Through a TCP proxy that
 * stops forwarding but keeps its sockets open (`blackhole()`), the client goes offline
 * within its heartbeat, reconnects once the link is back and its pending action is applied
 * exactly once; the server terminates a socket whose client went silent. Old peers keep
 * working: a client pings only a server whose welcome says it answers, and the server's
 * WebSocket pings are answered by any `ws` or browser client. The browser's `offline` event
 * drops the socket at once.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { WebSocketServer } from "ws";
import { actor, setup } from "tandem";
import { Kind, decodeUp, encodeDown } from "../shared/protocol/index.ts";
import { sleep, waitFor, within } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const executions: string[] = [];
const disconnects: string[] = [];

const list = actor({
  state: { items: [] as string[] },
  onDisconnect: (_c, conn) => {
    disconnects.push(conn.id);
  },
  actions: {
    slowAdd: async (c, item: string, ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      c.state.items.push(item);
      return c.state.items.length;
    },
    add: (c, item: string) => {
      executions.push(item);
      c.state.items.push(item);
      return c.state.items.length;
    },
  },
});
const registry = setup({ use: { list } });
type R = typeof registry;

const net = useNetwork();
/** Small heartbeats, so that the tests take a second, not the defaults' ten. */
const FAST_HEARTBEAT = { intervalMs: 50, timeoutMs: 150 } as const;
const FAST_SERVER_HEARTBEAT = { heartbeatMs: 50, deadAfterMs: 300 } as const;

beforeEach(() => {
  // Here, not after each test: the teardown of the one before closes sockets (onDisconnect) after its afterEach hooks.
  executions.length = 0;
  disconnects.length = 0;
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the client notices a silent server", () => {
  test("blackholed link → offline within the heartbeat; back → the pending action is applied exactly once", async () => {
    const server = await net.server(registry, { limits: FAST_SERVER_HEARTBEAT });
    const proxy = await net.proxy(server.port);
    const client = net.client<R>(proxy.url, { heartbeat: FAST_HEARTBEAT });
    const conn = client.list.getOrCreate("k").connect();
    await conn.whenSynced();
    expect(await conn.add("before")).toBe(1);

    proxy.blackhole();
    const during = conn.add("during");
    await waitFor(() => conn.outbox.some((entry) => entry.status === "sent"), { what: "the action sent" });
    await waitFor(() => conn.status === "offline", { what: "offline after the heartbeat", timeoutMs: 3000 });
    expect(conn.pending).toBe(1);
    await sleep(300); // reconnect attempts hang in the proxy meanwhile, and are given up in turn
    expect(conn.status).not.toBe("synced");
    expect(proxy.accepted).toBeGreaterThan(1);

    // Forwarding resumes: the bytes the proxy held (the action on the old socket) arrive too.
    proxy.restore();
    expect(await within(during, 5000, "the pending action")).toBe(2);
    await waitFor(() => conn.status === "synced", { what: "synced again", timeoutMs: 3000 });
    await sleep(200); // anything the proxy still held has arrived
    expect(executions).toEqual(["before", "during"]);
    expect(conn.state?.items).toEqual(["before", "during"]);
    expect(await server.client.list.get("k").add("after")).toBe(3);
  });

  test("a socket whose handshake hangs is given up and retried", async () => {
    const server = await net.server(registry);
    const proxy = await net.proxy(server.port);
    proxy.blackhole(); // connections are accepted and never answered
    const client = net.client<R>(proxy.url, { heartbeat: FAST_HEARTBEAT });
    const conn = client.list.getOrCreate("k").connect();
    await waitFor(() => proxy.accepted >= 2, { what: "a second attempt", timeoutMs: 3000 });
    proxy.restore();
    await within(conn.whenSynced(), 3000, "synced once the proxy forwards");
  });

  test("the browser's offline event drops the socket at once; the client comes back", async () => {
    const target = new EventTarget();
    vi.stubGlobal("addEventListener", target.addEventListener.bind(target));
    vi.stubGlobal("removeEventListener", target.removeEventListener.bind(target));
    const server = await net.server(registry);
    const client = net.client<R>(server.url, { heartbeat: { intervalMs: 0 } });
    const conn = client.list.getOrCreate("k").connect();
    await conn.whenSynced();
    target.dispatchEvent(new Event("offline"));
    expect(conn.status).toBe("offline");
    const queued = conn.add("offline");
    target.dispatchEvent(new Event("online"));
    expect(await within(queued, 3000, "the action queued offline")).toBe(1);
    await waitFor(() => disconnects.length === 1, { what: "the server saw the old socket go" });
  });

  test("a server of protocol 2 (no pong) is never pinged, and never given up for silence", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    const kinds: number[] = [];
    let sockets = 0;
    wss.on("connection", (socket) => {
      sockets++;
      socket.on("message", (data: Buffer) => {
        const message = decodeUp(new Uint8Array(data));
        kinds.push(message.kind);
        if (message.kind === Kind.hello) {
          socket.send(encodeDown({ kind: Kind.welcome, channel: 0, version: 2, minVersion: 1, clientId: message.clientId, socketId: "old" }));
        }
      });
    });
    try {
      const port = (wss.address() as { port: number }).port;
      const client = net.client<R>(`http://127.0.0.1:${port}`, { heartbeat: FAST_HEARTBEAT });
      client.list.getOrCreate("k").connect();
      await waitFor(() => kinds.includes(Kind.subscribe), { what: "the subscribe" });
      await sleep(500); // many heartbeat intervals
      expect(kinds).not.toContain(Kind.ping);
      expect(sockets).toBe(1);
    } finally {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  });
});

describe("the server notices a silent client", () => {
  test("a socket silent past deadAfterMs is terminated (its channels disconnect)", async () => {
    const server = await net.server(registry, { limits: FAST_SERVER_HEARTBEAT });
    const proxy = await net.proxy(server.port);
    const raw = await net.raw(proxy.url);
    await raw.hello();
    await raw.subscribe(1, "list", "k");
    proxy.blackhole();
    await waitFor(() => disconnects.length === 1, { what: "the server to drop the silent socket", timeoutMs: 3000 });
  });

  test("a client that answers WebSocket pings (any ws or browser client) stays connected, pings or not", async () => {
    const server = await net.server(registry, { limits: FAST_SERVER_HEARTBEAT });
    const raw = await net.raw(server.url); // sends nothing after subscribe; ws answers pings itself
    await raw.hello();
    await raw.subscribe(1, "list", "k");
    const client = net.client<R>(server.url, { heartbeat: { intervalMs: 0 } });
    const conn = client.list.getOrCreate("k").connect();
    await conn.whenSynced();
    await sleep(700); // more than twice deadAfterMs
    expect(raw.isOpen).toBe(true);
    expect(conn.status).toBe("synced");
    expect(disconnects).toEqual([]);
    expect(await conn.add("still here")).toBe(1);
  });

  test("a socket the server stops reading (a full channel) is not taken for silent", async () => {
    const server = await net.server(registry, { limits: { ...FAST_SERVER_HEARTBEAT, maxPendingActionsPerChannel: 1 } });
    const raw = await net.raw(server.url);
    await raw.hello();
    await raw.subscribe(1, "list", "k");
    raw.send({ kind: Kind.action, channel: 1, id: 1, name: "slowAdd", args: ["a", 500], seq: 0 });
    raw.send({ kind: Kind.action, channel: 1, id: 2, name: "slowAdd", args: ["b", 500], seq: 0 }); // held: the server stops reading
    expect((await raw.next(Kind.ack, (m) => m.id === 2, 3000)).ok).toBe(true);
    expect(raw.isOpen).toBe(true);
    expect(disconnects).toEqual([]);
  });

  test("the server answers a ping with a pong, on channel 0", async () => {
    const server = await net.server(registry);
    const raw = await net.raw(server.url);
    await raw.hello();
    raw.send({ kind: Kind.ping, channel: 0 });
    expect(await raw.next(Kind.pong)).toEqual({ kind: Kind.pong, channel: 0 });
  });
});

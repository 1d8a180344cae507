/**
 * Going offline and coming back, through a TCP proxy that cuts the link: status follows,
 * actions called offline queue and apply once each, in order; a lost ack is not executed
 * twice; a restarted server is re-subscribed; reconnects back off with full jitter and
 * honour the server's retry-after (unit tests of `Backoff`, and a fake server).
 */
import { describe, expect, test } from "vitest";
import { WebSocketServer } from "ws";
import * as Y from "yjs";
import { actor, setup, Unauthorized } from "tandem";
import { memoryDriver } from "tandem/server";
import { sleep, waitFor, within } from "./seed-helpers.ts";
import { Backoff } from "../client/transport/backoff.ts";
import { Kind, decodeUp, encodeDown, retryAfterFromReason } from "../shared/protocol/index.ts";
import { useNetwork } from "./support/raw-socket.ts";

const executions: string[] = [];

const list = actor({
  state: { items: [] as string[], notes: new Y.Text("") },
  onAuth: ({ params }) => {
    if (!params.user) throw new Unauthorized();
    return { userId: params.user };
  },
  canEdit: () => true,
  actions: {
    add: (c, item: string) => {
      executions.push(item);
      c.state.items.push(item);
      return c.state.items.length;
    },
    slowAdd: async (c, item: string, ms: number) => {
      executions.push(`start:${item}`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      executions.push(item);
      c.state.items.push(item);
      return c.state.items.length;
    },
    items: (c) => [...c.state.items],
  },
});

const registry = setup({ use: { list } });
type R = typeof registry;

const net = useNetwork();
const params = { user: "ada" };

describe("through a TCP proxy", () => {
  test("cut → offline, actions queue; restore → synced, each applied once, in order", async () => {
    executions.length = 0;
    const server = await net.server(registry);
    const proxy = await net.proxy(server.port);
    const client = net.client<R>(proxy.url);
    const conn = client.list.getOrCreate("k", { params }).connect();
    const statuses: string[] = [];
    conn.onStatus((status) => statuses.push(status));
    await conn.whenSynced();
    expect(await conn.add("online")).toBe(1);

    proxy.cut();
    await waitFor(() => conn.status === "offline", { what: "offline" });
    const queued = [conn.add("q1"), conn.add("q2"), conn.add("q3")];
    expect(conn.pending).toBe(3);
    await sleep(100); // reconnect attempts are refused meanwhile
    expect(conn.status).not.toBe("synced");
    expect(conn.pending).toBe(3);
    expect(await server.client.list.get("k").items()).toEqual(["online"]);
    expect(proxy.refused).toBeGreaterThan(0);

    proxy.restore();
    expect(await within(Promise.all(queued), 3000, "the queued actions")).toEqual([2, 3, 4]);
    await waitFor(() => conn.status === "synced", { what: "synced" });
    expect(conn.pending).toBe(0);
    expect(await server.client.list.get("k").items()).toEqual(["online", "q1", "q2", "q3"]);
    expect(executions).toEqual(["online", "q1", "q2", "q3"]);
    expect(conn.state?.items).toEqual(["online", "q1", "q2", "q3"]);
    expect(statuses).toContain("offline");
    expect(statuses.at(-1)).toBe("synced");
    expect(statuses.indexOf("syncing", statuses.indexOf("offline"))).toBeGreaterThan(statuses.indexOf("offline"));
  });

  test("an action whose ack was lost is resent and not executed twice", async () => {
    executions.length = 0;
    const server = await net.server(registry);
    const proxy = await net.proxy(server.port);
    const client = net.client<R>(proxy.url);
    const conn = client.list.getOrCreate("k", { params }).connect();
    await conn.whenSynced();
    const call = conn.slowAdd("once", 150);
    await waitFor(() => executions.includes("start:once"), { what: "the action to start on the server" });
    proxy.cut(); // the ack will have nowhere to go
    await waitFor(() => executions.includes("once"), { what: "the action to finish on the server" });
    await sleep(20);
    proxy.restore();
    expect(await within(call, 3000, "the resent action")).toBe(1);
    expect(executions.filter((e) => e === "once")).toHaveLength(1);
    expect(await server.client.list.get("k").items()).toEqual(["once"]);
    await waitFor(() => conn.status === "synced", { what: "synced" });
    expect(conn.state?.items).toEqual(["once"]);
  });

  test("changes made by others while offline arrive on reconnect; so do offline edits", async () => {
    const server = await net.server(registry);
    const proxy = await net.proxy(server.port);
    const a = net.client<R>(proxy.url);
    const b = net.client<R>(server.url);
    const ca = a.list.getOrCreate("k", { params }).connect();
    const cb = b.list.getOrCreate("k", { params: { user: "bob" } }).connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    proxy.cut();
    await waitFor(() => ca.status === "offline", { what: "offline" });
    await cb.add("while-a-was-away");
    (ca.doc.getMap("state").get("notes") as Y.Text).insert(0, "offline note");
    expect(ca.pending).toBe(1);
    proxy.restore();
    await waitFor(() => ca.status === "synced" && ca.pending === 0, { what: "synced with the edit accepted" });
    expect(ca.state?.items).toEqual(["while-a-was-away"]);
    await waitFor(() => (cb.doc.getMap("state").get("notes") as Y.Text).toString() === "offline note", { what: "the offline edit at b" });
    expect(Y.encodeStateVector(ca.doc)).toEqual(Y.encodeStateVector(cb.doc));
  });

  test("a connection opened while the server is unreachable queues, then syncs", async () => {
    const server = await net.server(registry);
    await server.client.list.getOrCreate("k", { auth: { userId: "seed" } }).add("seeded");
    const proxy = await net.proxy(server.port);
    proxy.cut();
    const client = net.client<R>(proxy.url);
    const conn = client.list.get("k", { params }).connect();
    const call = conn.add("early");
    await sleep(80);
    expect(conn.state).toBeUndefined(); // never synced: no state yet
    expect(conn.status === "connecting" || conn.status === "offline").toBe(true);
    expect(conn.pending).toBe(1);
    proxy.restore();
    expect(await within(call, 3000, "the early action")).toBe(2);
    await conn.whenSynced();
    expect(conn.state?.items).toEqual(["seeded", "early"]);
  });

  test("a restarted server is re-subscribed after the retry-after its close gave; the client converges", async () => {
    executions.length = 0;
    const driver = memoryDriver();
    const first = await net.server(registry, { driver });
    const proxy = await net.proxy(first.port);
    const client = net.client<R>(proxy.url);
    const conn = client.list.getOrCreate("k", { params }).connect();
    await conn.whenSynced();
    await conn.add("before");
    const closedAt = Date.now();
    const closing = net.closeServer(first); // closes sockets with "server closing; retry-after=1000"
    await waitFor(() => conn.status !== "synced", { what: "the client to notice" });
    const during = conn.add("during");
    const second = await net.server(registry, { driver });
    proxy.targetPort = second.port;
    await closing;
    await second.client.list.get("k").add("on-the-new-server");
    expect(await within(during, 4000, "the action queued across the restart")).toBe(3);
    // The client waited for the hint before coming back, then not much longer.
    const reconnectedAt = proxy.acceptedAt.find((t) => t >= closedAt);
    const waited = reconnectedAt === undefined ? -1 : reconnectedAt - closedAt;
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(1000 + 200 + 700); // floor + the largest jitter + slack
    await waitFor(() => conn.status === "synced", { what: "synced again" });
    expect(conn.state?.items).toEqual(["before", "on-the-new-server", "during"]);
    expect(await second.client.list.get("k").items()).toEqual(["before", "on-the-new-server", "during"]);
    expect(executions.filter((e) => e === "during")).toHaveLength(1);
  });
});

describe("retry-after from a server, and backoff without it (fake server)", () => {
  /** A WebSocket server that greets, then refuses each socket as `refuse` says; records connection times. */
  async function fakeServer(refuse: (socket: import("ws").WebSocket, attempt: number) => void) {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    const times: number[] = [];
    wss.on("connection", (socket) => {
      times.push(Date.now());
      const attempt = times.length;
      socket.on("message", (data: Buffer) => {
        const message = decodeUp(new Uint8Array(data));
        if (message.kind === Kind.hello) {
          socket.send(encodeDown({ kind: Kind.welcome, channel: 0, version: 1, minVersion: 1, clientId: message.clientId, socketId: `fake-${attempt}` }));
          refuse(socket, attempt);
        }
      });
    });
    const address = wss.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    return {
      url: `http://127.0.0.1:${port}`,
      times,
      close: () =>
        new Promise<void>((resolve) => {
          for (const client of wss.clients) client.terminate();
          wss.close(() => resolve());
        }),
    };
  }

  test("an error frame's metadata.retryAfterMs delays the next connection", async () => {
    const fake = await fakeServer((socket, attempt) => {
      if (attempt > 1) return;
      socket.send(encodeDown({ kind: Kind.error, channel: 0, error: { code: "rate_limited", message: "busy", group: "client", metadata: { retryAfterMs: 300 } } }));
      setTimeout(() => socket.close(4429, "busy"), 5);
    });
    try {
      const client = net.client<R>(fake.url);
      client.list.getOrCreate("k", { params }).connect();
      await waitFor(() => fake.times.length >= 2, { what: "the second connection", timeoutMs: 3000 });
      const gap = fake.times[1]! - fake.times[0]!;
      expect(gap).toBeGreaterThanOrEqual(300);
      expect(gap).toBeLessThan(300 + 200 + 400);
    } finally {
      await fake.close();
    }
  });

  test("a close reason with retry-after=<ms> delays the next connection", async () => {
    const fake = await fakeServer((socket, attempt) => {
      if (attempt === 1) socket.close(4429, "slow down; retry-after=300");
    });
    try {
      const client = net.client<R>(fake.url);
      client.list.getOrCreate("k", { params }).connect();
      await waitFor(() => fake.times.length >= 2, { what: "the second connection", timeoutMs: 3000 });
      const gap = fake.times[1]! - fake.times[0]!;
      expect(gap).toBeGreaterThanOrEqual(300);
      expect(gap).toBeLessThan(300 + 200 + 400);
    } finally {
      await fake.close();
    }
  });

  test("without a hint, reconnects come within the backoff caps", async () => {
    const fake = await fakeServer((socket, attempt) => {
      if (attempt <= 4) socket.close(1011, "oops");
    });
    try {
      const client = net.client<R>(fake.url, { backoff: { baseMs: 20, maxMs: 100 } });
      client.list.getOrCreate("k", { params }).connect();
      await waitFor(() => fake.times.length >= 5, { what: "five connections", timeoutMs: 3000 });
      for (let i = 1; i < 5; i++) expect(fake.times[i]! - fake.times[i - 1]!).toBeLessThan(100 + 150);
    } finally {
      await fake.close();
    }
  });
});

describe("Backoff (unit)", () => {
  /** A fake random source replaying values. */
  const fixed = (...values: number[]) => {
    let i = 0;
    return () => values[Math.min(i++, values.length - 1)]!;
  };

  test("full jitter: each delay is random in [0, cap), the cap doubles up to maxMs", () => {
    const top = new Backoff({ baseMs: 100, maxMs: 1000, random: fixed(0.999999) });
    expect(Array.from({ length: 7 }, () => top.next())).toEqual([99, 199, 399, 799, 999, 999, 999]);
    const bottom = new Backoff({ baseMs: 100, maxMs: 1000, random: fixed(0) });
    expect(Array.from({ length: 5 }, () => bottom.next())).toEqual([0, 0, 0, 0, 0]);
    const half = new Backoff({ baseMs: 100, maxMs: 1000, random: fixed(0.5) });
    expect(Array.from({ length: 6 }, () => half.next())).toEqual([50, 100, 200, 400, 500, 500]);
  });

  test("random delays stay within the bounds over many attempts", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const backoff = new Backoff({ baseMs: 50, maxMs: 800, random });
    for (let attempt = 0; attempt < 200; attempt++) {
      const cap = Math.min(800, 50 * 2 ** attempt);
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(cap);
      expect(Number.isInteger(delay)).toBe(true);
    }
  });

  test("reset() starts again from the base cap", () => {
    const backoff = new Backoff({ baseMs: 100, maxMs: 10_000, random: fixed(0.999999) });
    backoff.next();
    backoff.next();
    expect(backoff.next()).toBe(399);
    backoff.reset();
    expect(backoff.next()).toBe(99);
  });

  test("retryAfter sets a floor under the next delay only", () => {
    const backoff = new Backoff({ baseMs: 100, maxMs: 1000, random: fixed(0.5) });
    backoff.retryAfter(2000);
    expect(backoff.next()).toBe(2000 + 50);
    expect(backoff.next()).toBe(100); // the floor was used once
    backoff.retryAfter(300);
    expect(backoff.next()).toBe(300 + 200);
  });

  test("retryAfter ignores nonsense and caps absurd values", () => {
    const backoff = new Backoff({ baseMs: 100, maxMs: 1000, random: fixed(0) });
    for (const bad of [-5, 0, Number.NaN, Number.POSITIVE_INFINITY]) {
      backoff.retryAfter(bad);
      expect(backoff.next()).toBe(0);
    }
    backoff.retryAfter(10 * 60 * 60_000);
    expect(backoff.next()).toBe(5 * 60_000);
  });

  test("defaults: 250 ms first cap, 10 s largest", () => {
    const backoff = new Backoff({ random: fixed(0.999999) });
    const delays = Array.from({ length: 10 }, () => backoff.next());
    expect(delays[0]).toBe(249);
    expect(Math.max(...delays)).toBe(9999);
  });

  test("retry-after=<ms> is read from a close reason", () => {
    expect(retryAfterFromReason("server closing; retry-after=1000")).toBe(1000);
    expect(retryAfterFromReason("retry-after=0")).toBe(0);
    expect(retryAfterFromReason("server closing")).toBeNull();
    expect(retryAfterFromReason("")).toBeNull();
  });
});

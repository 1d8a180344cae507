/**
 * Offline first, as a user feels it: cut the link (a TCP proxy), call actions — their
 * predictions show at once — reload (a new client over the same storage) and still see them,
 * reconnect, and every action is applied exactly once, in order; a rejected one is rolled
 * back (its promise rejects, or after a reload its settled event says so); replicas converge.
 */
import { describe, expect, test } from "vitest";
import { actor, setup, UserError } from "tandem";
import { createClient, memoryStorage, type ClientStorage } from "tandem/client";
import { memoryDriver } from "tandem/server";
import { useNetwork } from "./support/raw-socket.ts";
import { waitFor } from "./seed-helpers.ts";

const applied: string[] = [];

const todos = actor({
  state: { items: [] as { id: string; text: string }[] },
  actions: {
    add: (c, id: string, text: string) => {
      if (text.length > 10) throw new UserError("Too long", { code: "too_long" });
      applied.push(id);
      c.state.items.push({ id, text });
      return c.state.items.length;
    },
    list: (c) => c.state.items,
  },
});
const registry = setup({ use: { todos } });
type R = typeof registry;

const optimistic = {
  todos: {
    add: (state: { items: { id: string; text: string }[] }, id: string, text: string) => {
      state.items.push({ id, text: `${text}` });
    },
  },
};

describe("offline, reload, reconnect", () => {
  const net = useNetwork();

  test("actions called offline show at once, survive a reload, and apply exactly once in order", async () => {
    applied.length = 0;
    const server = await net.server(registry, { driver: memoryDriver() });
    const proxy = await net.proxy(server.port);
    const storage: ClientStorage = memoryStorage();
    const first = createClient<R>(proxy.url, { storage, optimistic, backoff: { baseMs: 10, maxMs: 50 } });
    const conn = first.todos.getOrCreate("list").connect();
    await conn.whenSynced();
    await conn.add("a", "first");

    proxy.cut();
    await waitFor(() => conn.status === "offline", { what: "offline" });
    const promises = [conn.add("b", "second"), conn.add("c", "way too long text"), conn.add("d", "fourth")];
    for (const p of promises) p.catch(() => undefined);
    // predictions, at once
    expect(conn.state?.items.map((item) => item.id)).toEqual(["a", "b", "c", "d"]);
    expect(conn.pending).toBe(3);
    await waitFor(() => conn.outbox.every((entry) => entry.seq > 0), { what: "the outbox to be stored" });
    expect(conn.outbox.map((entry) => [entry.name, entry.status])).toEqual([
      ["add", "queued"],
      ["add", "queued"],
      ["add", "queued"],
    ]);

    // "reload": the first client goes away while offline; a new one opens the same storage
    conn.dispose();
    first.dispose();
    const second = createClient<R>(proxy.url, { storage, optimistic, backoff: { baseMs: 10, maxMs: 50 } });
    const again = second.todos.getOrCreate("list").connect();
    await again.whenLoaded();
    expect(again.state?.items.map((item) => item.id)).toEqual(["a", "b", "c", "d"]);
    expect(again.outbox.map((entry) => entry.restored)).toEqual([true, true, true]);
    const settled: { seq: number; status: string; code?: string }[] = [];
    again.onSettled((entry) => settled.push({ seq: entry.seq, status: entry.status, code: entry.error?.code }));
    await second.ready;
    expect(second.clientId).toBe(first.clientId);

    proxy.restore();
    await again.whenSynced();
    expect(applied).toEqual(["a", "b", "d"]);
    expect(again.state?.items.map((item) => item.id)).toEqual(["a", "b", "d"]);
    expect(settled.map((s) => s.status)).toEqual(["confirmed", "rejected", "confirmed"]);
    expect(settled[1]!.code).toBe("too_long");
    expect(again.pending).toBe(0);

    // a third client sees the same
    const other = net.client<R>(server.url);
    const view = other.todos.get("list").connect();
    await view.whenSynced();
    expect(view.state).toEqual(again.state);
    again.dispose();
    second.dispose();
  });

  test("a lost ack does not run the action twice (resent with its seq)", async () => {
    applied.length = 0;
    const server = await net.server(registry);
    const proxy = await net.proxy(server.port);
    const client = net.client<R>(proxy.url, { storage: memoryStorage() });
    const conn = client.todos.getOrCreate("acks").connect();
    await conn.whenSynced();
    // cut right after the frames left: the server runs them, the acks are lost
    const calls = [conn.add("x1", "one"), conn.add("x2", "two"), conn.add("x3", "three")];
    await waitFor(() => applied.length === 3, { what: "the server to apply them" });
    proxy.cut();
    await waitFor(() => conn.status === "offline", { what: "offline" });
    proxy.restore();
    expect(await Promise.all(calls)).toEqual([1, 2, 3]);
    expect(applied).toEqual(["x1", "x2", "x3"]);
    expect(conn.state?.items).toHaveLength(3);
  });

  test("a rejected action's prediction rolls back and its promise rejects with the server's error", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url, { storage: memoryStorage(), optimistic });
    const conn = client.todos.getOrCreate("reject").connect();
    await conn.whenSynced();
    const call = conn.add("long", "this is far too long");
    expect(conn.state?.items.map((item) => item.id)).toEqual(["long"]);
    await expect(call).rejects.toMatchObject({ code: "too_long", message: "Too long" });
    expect(conn.state?.items).toEqual([]);
  });

  test("state is readable offline on a cold start, from storage alone", async () => {
    const server = await net.server(registry);
    const storage = memoryStorage();
    const online = net.client<R>(server.url, { storage });
    const conn = online.todos.getOrCreate("cold").connect();
    await conn.whenSynced();
    await conn.add("k", "kept");
    conn.dispose();
    online.dispose();
    await net.closeServer(server);
    const offline = createClient<R>("http://127.0.0.1:9", { storage, backoff: { baseMs: 1000, maxMs: 1000 } });
    try {
      const cold = offline.todos.getOrCreate("cold").connect();
      await cold.whenLoaded();
      expect(cold.state?.items).toEqual([{ id: "k", text: "kept" }]);
      expect(cold.status).not.toBe("synced");
      cold.dispose();
    } finally {
      offline.dispose();
    }
  });

  test("resetLocalData forgets the replica and the outbox, then syncs again", async () => {
    const server = await net.server(registry);
    const proxy = await net.proxy(server.port);
    const storage = memoryStorage();
    const client = net.client<R>(proxy.url, { storage, optimistic });
    const conn = client.todos.getOrCreate("reset").connect();
    await conn.whenSynced();
    await conn.add("s", "server");
    proxy.cut();
    await waitFor(() => conn.status === "offline", { what: "offline" });
    const stuck = conn.add("q", "queued");
    await conn.resetLocalData();
    await expect(stuck).rejects.toMatchObject({ code: "actor_stopped" });
    expect(conn.pending).toBe(0);
    expect(await storage.list("r:")).toEqual([]);
    proxy.restore();
    await conn.whenSynced();
    expect(conn.state?.items.map((item) => item.id)).toEqual(["s"]);
  });
});

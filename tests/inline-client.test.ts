/**
 * The inline client (`server.client`, `c.client()`) as trusted server code sees it: values
 * are copied both ways, connections share events, once/off/dispose, a connection keeps one
 * identity across calls, and an actor calling itself fails instead of hanging.
 */
import { expect, test } from "vitest";
import { actor, event, setup } from "tandem";
import { rejection, sleep, useServers, waitFor, within } from "./seed-helpers.ts";

interface Item {
  name: string;
  tags: string[];
}

const store = actor({
  state: { items: [] as Item[], config: { nested: { level: 1 } } },
  vars: { lastArg: null as Item | null },
  // Never runs for inline calls: the caller's `auth` is used as it is.
  onAuth: (): { user: string } => ({ user: "from-onAuth" }),
  events: { added: event<Item>(), ping: event<number>() },
  onDisconnect: (c, conn) => {
    c.state.config.nested.level++;
    disconnected.push(conn.id);
  },
  actions: {
    add: (c, item: Item) => {
      c.vars.lastArg = item;
      c.state.items.push(item);
      c.broadcast("added", item);
      return item;
    },
    mutateLastArg: (c) => {
      // The actor keeps its own copy: mutating it must not reach the caller's object.
      c.vars.lastArg?.tags.push("from-actor");
      return c.vars.lastArg;
    },
    items: (c) => c.state.items,
    config: (c) => c.state.config,
    ping: (c, n: number) => {
      c.broadcast("ping", n);
      return n;
    },
    pingMe: (c, n: number) => {
      c.conn.send("ping", n);
      return n;
    },
    whoAmI: (c) => ({ id: c.conn.id, live: c.conn.live, auth: c.conn.auth ?? null, params: c.conn.params ?? null }),
    connIds: (c) => [...c.conns.keys()],
    level: (c) => c.state.config.nested.level,
    kick: (c, id: string) => {
      c.conns.get(id)?.disconnect("kicked");
    },
  },
});

const disconnected: string[] = [];

const loop = actor({
  state: { n: 0 },
  // Bounds a deadlock if self-calls are not detected, so the server can still close.
  options: { actionTimeoutMs: 600 },
  actions: {
    callSelf: async (c) => {
      const client = c.client<typeof registry>();
      return client.loop.getOrCreate(c.key as string[]).n();
    },
    callSelfViaConnection: async (c) => {
      const conn = c.client<typeof registry>().loop.getOrCreate(c.key as string[]).connect();
      try {
        await conn.whenSynced();
        return await conn.n();
      } finally {
        await conn.dispose();
      }
    },
    callSelfById: async (c) => c.client<typeof registry>().loop.getForId(c.actorId).n(),
    callPartner: async (c, partner: string) => c.client<typeof registry>().relay.getOrCreate(partner).callBack(c.key[0]!),
    callOther: async (c, other: string) => c.client<typeof registry>().loop.getOrCreate(other).n(),
    n: (c) => ++c.state.n,
  },
});

const relay = actor({
  state: {},
  actions: {
    callBack: async (c, key: string) => c.client<typeof registry>().loop.getOrCreate(key).n(),
  },
});

const registry = setup({ use: { store, loop, relay } });
const start = useServers();

test("arguments are copied: mutating a passed object does not affect the actor", async () => {
  const server = start(registry);
  const handle = server.client.store.getOrCreate("s");
  const item = { name: "a", tags: ["x"] };
  await handle.add(item);
  item.name = "changed";
  item.tags.push("y");
  expect(await handle.items()).toEqual([{ name: "a", tags: ["x"] }]);
  // And the actor mutating its copy does not reach the caller's object.
  await handle.mutateLastArg();
  expect(item).toEqual({ name: "changed", tags: ["x", "y"] });
});

test("results are copied: mutating a returned object does not affect the actor", async () => {
  const server = start(registry);
  const handle = server.client.store.getOrCreate("s");
  const returned = await handle.add({ name: "a", tags: ["x"] });
  returned.tags.push("mutated");
  const items = await handle.items();
  items[0]!.name = "mutated";
  items.push({ name: "b", tags: [] });
  const config = await handle.config();
  config.nested.level = 99;
  expect(await handle.items()).toEqual([{ name: "a", tags: ["x"] }]);
  expect(await handle.config()).toEqual({ nested: { level: 1 } });
  // Two calls never share objects.
  expect(await handle.items()).not.toBe(await handle.items());
});

test("event payloads are copied for each listener", async () => {
  const server = start(registry);
  const handle = server.client.store.getOrCreate("s");
  const conn = handle.connect();
  await conn.whenSynced();
  const first: Item[] = [];
  const second: Item[] = [];
  conn.on("added", (item) => {
    item.tags.push("mutated by a listener");
    first.push(item);
  });
  conn.on("added", (item) => second.push(item));
  await handle.add({ name: "a", tags: [] });
  await waitFor(() => first.length === 1 && second.length === 1, { what: "both listeners" });
  expect(second[0]).toEqual({ name: "a", tags: [] });
  expect(await handle.items()).toEqual([{ name: "a", tags: [] }]);
  await conn.dispose();
});

test("connect(): every connection gets broadcasts; conn.send reaches only its own", async () => {
  const server = start(registry);
  const handle = server.client.store.getOrCreate("s");
  const a = handle.connect();
  const b = server.client.store.get("s").connect();
  await Promise.all([a.whenSynced(), b.whenSynced()]);
  const gotA: number[] = [];
  const gotB: number[] = [];
  a.on("ping", (n) => gotA.push(n));
  b.on("ping", (n) => gotB.push(n));
  await handle.ping(1);
  await a.ping(2);
  await waitFor(() => gotA.length === 2 && gotB.length === 2, { what: "broadcasts" });
  expect(gotA).toEqual([1, 2]);
  expect(gotB).toEqual([1, 2]);
  await a.pingMe(3);
  await waitFor(() => gotA.length === 3, { what: "conn.send" });
  await sleep(5);
  expect(gotA).toEqual([1, 2, 3]);
  expect(gotB).toEqual([1, 2]);
  await a.dispose();
  await b.dispose();
});

test("a broadcast from a failed action is never delivered", async () => {
  const failing = actor({
    state: { n: 0 },
    events: { tick: event<number>() },
    actions: {
      tickThenFail: (c) => {
        c.broadcast("tick", 1);
        throw new Error("nope");
      },
      tick: (c) => c.broadcast("tick", 2),
    },
  });
  const server = start(setup({ use: { failing } }));
  const conn = server.client.failing.getOrCreate("f").connect();
  await conn.whenSynced();
  const got: number[] = [];
  conn.on("tick", (n) => got.push(n));
  await expect(conn.tickThenFail()).rejects.toMatchObject({ code: "internal_error" });
  await conn.tick();
  await waitFor(() => got.length > 0, { what: "the tick" });
  await sleep(5);
  expect(got).toEqual([2]);
  await conn.dispose();
});

test("once() fires a single time; off() and the returned unsubscribe stop a listener", async () => {
  const server = start(registry);
  const handle = server.client.store.getOrCreate("s");
  const conn = handle.connect();
  await conn.whenSynced();
  const once: number[] = [];
  const all: number[] = [];
  const removed: number[] = [];
  const unsubscribed: number[] = [];
  const removedListener = (n: number) => removed.push(n);
  conn.once("ping", (n) => once.push(n));
  conn.on("ping", (n) => all.push(n));
  conn.on("ping", removedListener);
  const unsubscribe = conn.on("ping", (n) => unsubscribed.push(n));
  conn.off("ping", removedListener);
  unsubscribe();
  await handle.ping(1);
  await handle.ping(2);
  await handle.ping(3);
  await waitFor(() => all.length === 3, { what: "three pings" });
  expect(all).toEqual([1, 2, 3]);
  expect(once).toEqual([1]);
  expect(removed).toEqual([]);
  expect(unsubscribed).toEqual([]);
  // A once listener can be cancelled before it fires.
  const cancelled: number[] = [];
  const cancel = conn.once("ping", (n) => cancelled.push(n));
  cancel();
  await handle.ping(4);
  await waitFor(() => all.length === 4, { what: "the fourth ping" });
  expect(cancelled).toEqual([]);
  await conn.dispose();
});

test("dispose() runs onDisconnect, stops events, and the connection's calls reject", async () => {
  const server = start(registry);
  const handle = server.client.store.getOrCreate("s");
  const conn = handle.connect();
  await conn.whenSynced();
  const got: number[] = [];
  conn.on("ping", (n) => got.push(n));
  expect(await handle.connIds()).toEqual([conn.id]);
  expect(await handle.level()).toBe(1);
  await conn.dispose();
  expect(disconnected).toContain(conn.id);
  expect(await handle.level()).toBe(2); // onDisconnect's state change committed
  expect(await handle.connIds()).toEqual([]);
  await handle.ping(1);
  await sleep(5);
  expect(got).toEqual([]);
  await expect(conn.ping(2)).rejects.toMatchObject({ code: "actor_stopped" });
});

test("a connection the actor disconnects runs onDisconnect and rejects later calls", async () => {
  const server = start(registry);
  const handle = server.client.store.getOrCreate("s");
  const conn = handle.connect();
  await conn.whenSynced();
  await handle.kick(conn.id);
  await waitFor(async () => (await handle.connIds()).length === 0, { what: "the kick" });
  await waitFor(() => disconnected.includes(conn.id), { what: "onDisconnect" });
  await expect(conn.ping(1)).rejects.toHaveProperty("code", "actor_stopped");
  await conn.dispose(); // harmless after a kick
});

test("a connection's actions see c.conn.live === true and the same c.conn.id across calls", async () => {
  const server = start(registry);
  const handle = server.client.store.getOrCreate("s", { auth: { user: "u1" }, params: { token: "t" } });
  const conn = handle.connect();
  const first = await conn.whoAmI();
  const second = await conn.whoAmI();
  expect(first.live).toBe(true);
  expect(first.id).toBe(second.id);
  expect(first.id).toBe(conn.id);
  expect(first.auth).toEqual({ user: "u1" });
  expect(first.params).toEqual({ token: "t" });
  // Another connection has another id; one-off handle calls are not live.
  const other = handle.connect();
  expect((await other.whoAmI()).id).not.toBe(first.id);
  const oneOff = await handle.whoAmI();
  expect(oneOff.live).toBe(false);
  expect(oneOff.id).not.toBe(first.id);
  expect(oneOff.auth).toEqual({ user: "u1" });
  expect((await server.client.store.get("s").whoAmI()).auth).toBeNull();
  await conn.dispose();
  await other.dispose();
});

// A self-call would wait for itself forever; the timeout below only bounds the damage if the
// runtime fails to detect it (the detection must answer at once, well before the timeout).
const SELF_CALL_LIMIT_MS = 400;

test("an actor calling itself through c.client() rejects with internal_error instead of hanging", async () => {
  const server = start(registry);
  const handle = server.client.loop.getOrCreate("self");
  const error = await rejection(within(handle.callSelf(), SELF_CALL_LIMIT_MS, "callSelf"));
  expect(error.code).toBe("internal_error");
  expect(error.message).not.toMatch(/timed out/i);
  // The actor is fine afterwards.
  expect(await handle.n()).toBe(1);
});

test("an actor calling itself by id (getForId) rejects with internal_error instead of hanging", async () => {
  const server = start(registry);
  const handle = server.client.loop.getOrCreate("self-id");
  const error = await rejection(within(handle.callSelfById(), SELF_CALL_LIMIT_MS, "callSelfById"));
  expect(error.code).toBe("internal_error");
  expect(error.message).not.toMatch(/timed out/i);
});

test("an actor connecting to itself rejects with internal_error instead of hanging", async () => {
  const server = start(registry);
  const handle = server.client.loop.getOrCreate("self-conn");
  const error = await rejection(within(handle.callSelfViaConnection(), SELF_CALL_LIMIT_MS, "callSelfViaConnection"));
  expect(error.code).toBe("internal_error");
  expect(error.message).not.toMatch(/timed out/i);
});

test("a call cycle through another actor (A → B → A) rejects instead of hanging", async () => {
  const server = start(registry);
  const handle = server.client.loop.getOrCreate("a");
  await expect(within(handle.callPartner("b"), 2000, "A → B → A")).rejects.toMatchObject({ code: "internal_error" });
  expect(await handle.n()).toBe(1);
});

test("an actor may call another actor of its own kind", async () => {
  const server = start(registry);
  expect(await within(server.client.loop.getOrCreate("one").callOther("two"), 2000)).toBe(1);
  expect(await server.client.loop.get("two").n()).toBe(2);
});

test("the same actor called from two independent places concurrently does not deadlock", async () => {
  const server = start(registry);
  const results = await within(
    Promise.all([server.client.loop.getOrCreate("x").callOther("y"), server.client.loop.getOrCreate("z").callOther("y")]),
    2000,
  );
  expect([...results].sort()).toEqual([1, 2]);
});

test("handles and the client are not thenables: awaiting them returns them at once", async () => {
  const server = start(registry);
  const handle = server.client.store.getOrCreate("s");
  expect(await within(Promise.resolve(handle), 500)).toBe(handle);
  const conn = handle.connect();
  expect(await within(Promise.resolve(conn), 500)).toBe(conn);
  expect(await within(Promise.resolve(server.client), 500)).toBe(server.client);
  await conn.dispose();
});

test("a handle from getOrCreate creates the actor only when used", async () => {
  const server = start(registry);
  server.client.store.getOrCreate("lazy");
  expect(server.runtime.loaded.size).toBe(0);
  await expect(server.client.store.get("lazy").items()).rejects.toMatchObject({ code: "actor_not_found" });
  await server.client.store.getOrCreate("lazy").items();
  expect(server.runtime.loaded.size).toBe(1);
});

test("events sent in onConnect reach the new connection; onDisconnect broadcasts reach those who stay", async () => {
  const lobby = actor({
    state: { present: [] as string[] },
    events: { welcome: event<string>(), left: event<string>() },
    onConnect: (c, conn) => {
      c.state.present.push(conn.params.name ?? "?");
      conn.send("welcome", `hello ${conn.params.name}`);
    },
    onDisconnect: (c, conn) => {
      c.state.present.splice(c.state.present.indexOf(conn.params.name ?? "?"), 1);
      c.broadcast("left", conn.params.name ?? "?");
    },
    actions: { present: (c) => c.state.present },
  });
  const server = start(setup({ use: { lobby } }));
  const welcomes: string[] = [];
  const left: string[] = [];
  const ann = server.client.lobby.getOrCreate("l", { params: { name: "ann" } }).connect();
  ann.on("welcome", (w) => welcomes.push(w));
  ann.on("left", (name) => left.push(name));
  const bob = server.client.lobby.getOrCreate("l", { params: { name: "bob" } }).connect();
  const bobLeft: string[] = [];
  bob.on("left", (name) => bobLeft.push(name));
  await Promise.all([ann.whenSynced(), bob.whenSynced()]);
  await waitFor(() => welcomes.length === 1, { what: "the welcome" });
  expect(welcomes).toEqual(["hello ann"]);
  expect(await server.client.lobby.get("l").present()).toEqual(["ann", "bob"]);
  await bob.dispose();
  await waitFor(() => left.length === 1, { what: "the left event" });
  expect(left).toEqual(["bob"]);
  expect(bobLeft).toEqual([]);
  expect(await server.client.lobby.get("l").present()).toEqual(["ann"]);
  await ann.dispose();
});

/**
 * Every handle method, over stateless HTTP and over the WebSocket (`connect()` with each
 * kind of target): typed results that agree between the two, state visible in the replica
 * after `whenSynced()`, and two clients that converge on state and document.
 */
import { describe, expect, expectTypeOf, test } from "vitest";
import * as Y from "yjs";
import { ActorAlreadyExists, ActorNotFound, actor, event, setup } from "tandem";
import { memoryDriver } from "tandem/server";
import { rejection, waitFor, within } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const counter = actor({
  state: { count: 0, history: [] as number[] },
  events: { changed: event<number>() },
  actions: {
    increment: (c, amount: number) => {
      c.state.count += amount;
      c.state.history.push(amount);
      c.broadcast("changed", c.state.count);
      return c.state.count;
    },
    getCount: (c) => c.state.count,
    describe: (c) => ({ name: c.name, key: [...c.key], id: c.actorId, live: c.conn.live }),
  },
});

const game = actor({
  createState: (_c, input: { mode: string; maxPlayers: number }) => ({ mode: input.mode, maxPlayers: input.maxPlayers, players: [] as string[] }),
  actions: {
    info: (c) => `${c.state.mode}/${c.state.maxPlayers}`,
    join: (c, player: string) => {
      c.state.players.push(player);
      return c.state.players.length;
    },
  },
});

const registry = setup({ use: { counter, game } });
type R = typeof registry;

const net = useNetwork();

describe("handles over HTTP", () => {
  test("getOrCreate: actions return typed results and change the actor", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const handle = client.counter.getOrCreate(["org", "a"]);
    const first = handle.increment(2);
    expectTypeOf(first).toEqualTypeOf<Promise<number>>();
    expect(await first).toBe(2);
    expect(await handle.increment(3)).toBe(5);
    expect(await handle.getCount()).toBe(5);
    const described = await handle.describe();
    expect(described).toMatchObject({ name: "counter", key: ["org", "a"], live: false });
    // The server agrees.
    expect(await server.client.counter.get(["org", "a"]).getCount()).toBe(5);
  });

  test("resolve() returns the id and getForId reaches the same actor", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const handle = client.counter.getOrCreate("by-id");
    const id = await handle.resolve();
    expectTypeOf(id).toEqualTypeOf<string>();
    expect(typeof id).toBe("string");
    await handle.increment(7);
    const byId = client.counter.getForId(id);
    expect(await byId.getCount()).toBe(7);
    expect(await byId.resolve()).toBe(id);
    expect((await byId.describe()).id).toBe(id);
    expect(await server.client.counter.get("by-id").resolve()).toBe(id);
  });

  test("get of a missing actor fails with actor_not_found and creates nothing", async () => {
    const driver = memoryDriver();
    const server = await net.server(registry, { driver });
    const client = net.client<R>(server.url);
    const error = await rejection(client.counter.get("nobody").getCount());
    expect(error).toBeInstanceOf(ActorNotFound);
    expect(error.code).toBe("actor_not_found");
    expect(await rejection(client.counter.get("nobody").resolve())).toMatchObject({ code: "actor_not_found" });
    expect(await rejection(client.counter.getForId("no-such-id").getCount())).toMatchObject({ code: "actor_not_found" });
    expect(driver.size).toBe(0);
  });

  test("create twice fails with actor_already_exists; create passes its input", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const handle = await client.game.create("g1", { input: { mode: "classic", maxPlayers: 4 } });
    expect(await handle.info()).toBe("classic/4");
    expect(await handle.join("ada")).toBe(1);
    const error = await rejection(client.game.create("g1", { input: { mode: "other", maxPlayers: 2 } }));
    expect(error).toBeInstanceOf(ActorAlreadyExists);
    expect(error.code).toBe("actor_already_exists");
    // The first actor is untouched.
    expect(await client.game.get("g1").info()).toBe("classic/4");
    // getOrCreate passes createWithInput only when it creates.
    const other = client.game.getOrCreate("g2", { createWithInput: { mode: "blitz", maxPlayers: 2 } });
    expect(await other.info()).toBe("blitz/2");
    expect(await client.game.getOrCreate("g2", { createWithInput: { mode: "x", maxPlayers: 9 } }).info()).toBe("blitz/2");
  });
});

describe("handles over the WebSocket", () => {
  test("connect() on getOrCreate: results typed and equal to HTTP, state in the replica", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const handle = client.counter.getOrCreate("live");
    const conn = handle.connect();
    await conn.whenSynced();
    expect(conn.status).toBe("synced");
    expect(conn.state?.count).toBe(0);
    const viaSocket = conn.increment(4);
    expectTypeOf(viaSocket).toEqualTypeOf<Promise<number>>();
    expect(await viaSocket).toBe(4);
    // The ack carries the update: the replica has it when the promise resolves.
    expect(conn.state?.count).toBe(4);
    expect(conn.state?.history).toEqual([4]);
    expect(await handle.increment(1)).toBe(5); // HTTP
    expect(await conn.getCount()).toBe(5); // WS
    await waitFor(() => conn.state?.count === 5, { what: "the HTTP call's update in the replica" });
    const wsDescribe = await conn.describe();
    const httpDescribe = await handle.describe();
    expect(wsDescribe).toEqual({ ...httpDescribe, live: true });
    expect(conn.actorId).toBe(await handle.resolve());
  });

  test("connect() on get of a missing actor: whenSynced rejects with actor_not_found", async () => {
    const driver = memoryDriver();
    const server = await net.server(registry, { driver });
    const client = net.client<R>(server.url);
    const conn = client.counter.get("missing").connect();
    const errors: string[] = [];
    conn.onError((error) => errors.push(error.code));
    const error = await rejection(within(conn.whenSynced(), 2000, "whenSynced"));
    expect(error.code).toBe("actor_not_found");
    expect(errors).toContain("actor_not_found");
    expect(conn.status).toBe("offline");
    expect(driver.size).toBe(0);
    conn.dispose();
  });

  test("an action called on a refused connection rejects instead of waiting forever", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const conn = client.counter.get("missing").connect();
    await rejection(within(conn.whenSynced(), 2000, "whenSynced"));
    // The refusal is final (retry: false): a later call, or a later whenSynced(), fails too
    // rather than waiting for a sync that will never come.
    const [call, synced] = await Promise.all([
      rejection(within(conn.getCount(), 1000, "an action on a refused connection")),
      rejection(within(conn.whenSynced(), 1000, "whenSynced() on a refused connection")),
    ]);
    expect({ call: call.code ?? call.message, synced: synced.code ?? synced.message }).toEqual({ call: "actor_not_found", synced: "actor_not_found" });
    conn.dispose();
  });

  test("connect() on a created actor, with its input, and by id", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const handle = await client.game.create(["g", "1"], { input: { mode: "coop", maxPlayers: 3 } });
    const conn = handle.connect();
    await conn.whenSynced();
    expect(conn.state?.mode).toBe("coop");
    expect(await conn.join("ada")).toBe(1);
    expect(conn.state?.players).toEqual(["ada"]);
    const id = await handle.resolve();
    const byId = client.game.getForId(id).connect();
    await byId.whenSynced();
    expect(byId.actorId).toBe(id);
    expect(byId.state?.players).toEqual(["ada"]);
    expect(await byId.join("bob")).toBe(2);
    await waitFor(() => conn.state?.players.length === 2, { what: "the second connection's update" });
    // getOrCreate over the socket creates with createWithInput.
    const fresh = client.game.getOrCreate("g-new", { createWithInput: { mode: "duel", maxPlayers: 2 } }).connect();
    await fresh.whenSynced();
    expect(fresh.state).toEqual({ mode: "duel", maxPlayers: 2, players: [] });
    expect(await client.game.get("g-new").info()).toBe("duel/2");
  });

  test("two clients converge on state and document after actions from both", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const ca = a.counter.getOrCreate("shared").connect();
    const cb = b.counter.getOrCreate("shared").connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    const calls: Promise<number>[] = [];
    for (let i = 1; i <= 10; i++) calls.push(i % 2 === 0 ? ca.increment(i) : cb.increment(i));
    await Promise.all(calls);
    const expected = await server.client.counter.get("shared").getCount();
    expect(expected).toBe(55);
    await waitFor(() => ca.state?.count === 55 && cb.state?.count === 55, { what: "both replicas at 55" });
    expect(ca.state?.history.length).toBe(10);
    expect(cb.state?.history).toEqual(ca.state?.history);
    // Same document, byte for byte state vectors, and the same content.
    expect(Y.encodeStateVector(ca.doc)).toEqual(Y.encodeStateVector(cb.doc));
    expect(ca.doc.getMap("state").toJSON()).toEqual(cb.doc.getMap("state").toJSON());
    expect(ca.pending).toBe(0);
    expect(cb.pending).toBe(0);
  });
});

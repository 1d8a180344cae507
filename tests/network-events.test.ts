/**
 * Events over the WebSocket: on/once/off on a connection, `c.broadcast` to every
 * connection of the actor, `c.conn.send` to the caller only, and nothing at all from an
 * action that throws.
 */
import { describe, expect, test } from "vitest";
import { actor, event, setup, UserError } from "tandem";
import { rejection, sleep, waitFor } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const room = actor({
  state: { count: 0 },
  vars: { box: { n: 0 } },
  events: { changed: event<number>(), pong: event<{ to: string; n: number }>(), box: event<{ n: number }>(), doomed: event<string>() },
  actions: {
    increment: (c) => {
      c.state.count++;
      c.broadcast("changed", c.state.count);
      return c.state.count;
    },
    ping: (c, who: string, n: number) => {
      c.conn.send("pong", { to: who, n });
      return c.conn.live;
    },
    bump: (c) => {
      // The same object, changed, broadcast again: every event carries its value of the moment.
      c.vars.box.n++;
      c.broadcast("box", c.vars.box);
      return c.vars.box.n;
    },
    fail: (c) => {
      c.state.count += 100;
      c.broadcast("doomed", "broadcast");
      c.conn.send("doomed", "sent");
      throw new UserError("nope", { code: "nope" });
    },
  },
});

const registry = setup({ use: { room } });
type R = typeof registry;

const net = useNetwork();

describe("events", () => {
  test("on, once and off", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const conn = client.room.getOrCreate("r").connect();
    await conn.whenSynced();
    const onAll: number[] = [];
    const onceOnly: number[] = [];
    const removed: number[] = [];
    const unsubscribed: number[] = [];
    conn.on("changed", (n) => onAll.push(n));
    conn.once("changed", (n) => onceOnly.push(n));
    const listener = (n: number) => removed.push(n);
    conn.on("changed", listener);
    conn.off("changed", listener);
    const stop = conn.on("changed", (n) => unsubscribed.push(n));
    await conn.increment();
    await waitFor(() => onAll.length === 1 && unsubscribed.length === 1, { what: "the first event" });
    stop();
    await conn.increment();
    await conn.increment();
    await waitFor(() => onAll.length === 3, { what: "three events" });
    expect(onAll).toEqual([1, 2, 3]);
    expect(onceOnly).toEqual([1]);
    expect(removed).toEqual([]);
    expect(unsubscribed).toEqual([1]);
  });

  test("c.broadcast reaches every connection of the actor, in every client", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const a1 = a.room.getOrCreate("r").connect();
    const a2 = a.room.getOrCreate("r").connect(); // shares a1's subscription
    const b1 = b.room.getOrCreate("r").connect();
    const other = b.room.getOrCreate("elsewhere").connect();
    await Promise.all([a1.whenSynced(), a2.whenSynced(), b1.whenSynced(), other.whenSynced()]);
    const got = { a1: [] as number[], a2: [] as number[], b1: [] as number[], other: [] as number[] };
    a1.on("changed", (n) => got.a1.push(n));
    a2.on("changed", (n) => got.a2.push(n));
    b1.on("changed", (n) => got.b1.push(n));
    other.on("changed", (n) => got.other.push(n));
    await b1.increment();
    await server.client.room.get("r").increment(); // from trusted server code
    await a.room.get("r").increment(); // over HTTP
    await waitFor(() => got.a1.length === 3 && got.a2.length === 3 && got.b1.length === 3, { what: "three events everywhere" });
    expect(got).toEqual({ a1: [1, 2, 3], a2: [1, 2, 3], b1: [1, 2, 3], other: [] });
  });

  test("c.conn.send reaches only the caller", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const ca = a.room.getOrCreate("r").connect();
    const cb = b.room.getOrCreate("r").connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    ca.on("pong", (p) => gotA.push(p));
    cb.on("pong", (p) => gotB.push(p));
    expect(await ca.ping("a", 1)).toBe(true);
    expect(await cb.ping("b", 2)).toBe(true);
    // A one-off HTTP call has nobody to send to: the send is a no-op, the call succeeds.
    expect(await a.room.get("r").ping("http", 3)).toBe(false);
    await ca.increment(); // a barrier: events of one connection arrive in order
    await waitFor(() => gotA.length === 1 && gotB.length === 1, { what: "the pongs" });
    await sleep(20);
    expect(gotA).toEqual([{ to: "a", n: 1 }]);
    expect(gotB).toEqual([{ to: "b", n: 2 }]);
  });

  test("events from an action that throws never arrive", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const ca = a.room.getOrCreate("r").connect();
    const cb = b.room.getOrCreate("r").connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    const doomed: string[] = [];
    const changed: number[] = [];
    for (const conn of [ca, cb]) {
      conn.on("doomed", (p) => doomed.push(p));
      conn.on("changed", (n) => changed.push(n));
    }
    expect(await rejection(ca.fail())).toMatchObject({ code: "nope", message: "nope" });
    expect(await rejection(a.room.get("r").fail())).toMatchObject({ code: "nope" });
    // A later action's events arrive, so the failed ones would have arrived before them.
    await cb.increment();
    await waitFor(() => changed.length === 2, { what: "the later event on both connections" });
    expect(changed).toEqual([1, 1]);
    expect(doomed).toEqual([]);
    expect(ca.state?.count).toBe(1);
    await waitFor(() => cb.state?.count === 1, { what: "the replica" });
  });

  test("an event never arrives before the state it announces, in a burst too", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const ca = a.room.getOrCreate("burst").connect();
    const cb = b.room.getOrCreate("burst").connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    const stale: [number, number | undefined][] = [];
    const seen: number[] = [];
    cb.on("changed", (n) => {
      seen.push(n);
      if ((cb.state?.count ?? 0) < n) stale.push([n, cb.state?.count]);
    });
    // Many actions at once: their updates reach b in bursts the server may hold together.
    await Promise.all(Array.from({ length: 200 }, () => ca.increment()));
    await waitFor(() => seen.length === 200, { what: "every event at b" });
    expect(stale).toEqual([]);
  });

  test("each broadcast carries the payload's value at the time, even for the same object", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const conn = client.room.getOrCreate("r").connect();
    await conn.whenSynced();
    const got: number[] = [];
    conn.on("box", (p) => got.push(p.n));
    expect(await conn.bump()).toBe(1);
    expect(await conn.bump()).toBe(2);
    expect(await conn.bump()).toBe(3);
    await waitFor(() => got.length === 3, { what: "three box events" });
    expect(got).toEqual([1, 2, 3]);
  });
});

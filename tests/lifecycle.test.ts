/**
 * Lifecycle of an actor as a user sees it: createState → onCreate → onStart, onStart again
 * on reload, onStop on close and sleep, connection hooks, vars and privateState, sleep and
 * wake, and the mailbox running work one task at a time in arrival order.
 */
import { expect, test } from "vitest";
import { actor, Forbidden, setup, UserError } from "tandem";
import { memoryDriver } from "tandem/server";
import { rejection, sleep, useServers, waitFor } from "./seed-helpers.ts";

const start = useServers();

function lifecycleRegistry(log: string[]) {
  const tracked = actor({
    createState: (c, input: { label: string } | undefined) => {
      log.push(`createState:${c.key.join("/")}:${input?.label ?? "-"}`);
      return { label: input?.label ?? "none", started: 0 };
    },
    onCreate: (c, input) => {
      log.push(`onCreate:${c.state.label}:${input?.label ?? "-"}`);
    },
    onStart: (c) => {
      c.state.started++;
      log.push(`onStart:${c.state.started}`);
    },
    onStop: (c) => {
      log.push(`onStop:${c.state.label}`);
    },
    actions: {
      ping: (c) => {
        log.push("ping");
        return c.state.started;
      },
      slow: async (_c, ms: number) => {
        log.push("slow:start");
        await sleep(ms);
        log.push("slow:end");
        return "slow";
      },
    },
  });
  return setup({ use: { tracked } });
}

test("createState → onCreate → onStart on creation; onStop on close", async () => {
  const log: string[] = [];
  const server = start(lifecycleRegistry(log));
  await server.client.tracked.create(["t1"], { input: { label: "hello" } });
  expect(log).toEqual(["createState:t1:hello", "onCreate:hello:hello", "onStart:1"]);
  expect(await server.client.tracked.get(["t1"]).ping()).toBe(1);
  await server.close();
  expect(log).toEqual(["createState:t1:hello", "onCreate:hello:hello", "onStart:1", "ping", "onStop:hello"]);
});

test("a reloaded actor runs onStart only (not createState or onCreate)", async () => {
  const log: string[] = [];
  const registry = lifecycleRegistry(log);
  const driver = memoryDriver();
  const first = start(registry, { driver });
  await first.client.tracked.getOrCreate("t").ping();
  await first.close();
  log.length = 0;

  const second = start(registry, { driver });
  expect(log).toEqual([]); // nothing loads before it is asked for
  // State written by onStart persists: the second start sees the first one's count.
  expect(await second.client.tracked.getOrCreate("t", { createWithInput: { label: "ignored" } }).ping()).toBe(2);
  expect(log).toEqual(["onStart:2", "ping"]);
  await second.close();
  expect(log).toEqual(["onStart:2", "ping", "onStop:none"]);
});

test("onStop runs for every loaded actor on close, after the work already queued", async () => {
  const log: string[] = [];
  const server = start(lifecycleRegistry(log));
  await Promise.all(["a", "b", "c"].map((key) => server.client.tracked.getOrCreate(key, { createWithInput: { label: key } }).ping()));
  log.length = 0;
  const slow = server.client.tracked.get("a").slow(20);
  await waitFor(() => log.includes("slow:start"), { what: "the slow action to start" });
  const queued = server.client.tracked.get("a").ping();
  await sleep(1); // let the call reach the mailbox, behind the slow action
  await server.close();
  await expect(slow).resolves.toBe("slow");
  await expect(queued).resolves.toBe(1);
  expect(log.filter((l) => l.startsWith("onStop:")).sort()).toEqual(["onStop:a", "onStop:b", "onStop:c"]);
  expect(log.indexOf("slow:end")).toBeLessThan(log.indexOf("onStop:a"));
  expect(log.indexOf("ping")).toBeLessThan(log.indexOf("onStop:a"));
  expect(log.filter((l) => l === "ping")).toHaveLength(1);
  expect(server.runtime.loaded.size).toBe(0);
  // After close, calls are refused.
  await expect(server.client.tracked.get("a").ping()).rejects.toMatchObject({ code: "actor_stopped" });
});

test("an onCreate that throws creates nothing", async () => {
  const driver = memoryDriver();
  let attempts = 0;
  const fragile = actor({
    state: { n: 0 },
    onCreate: () => {
      attempts++;
      if (attempts === 1) throw new UserError("not today", { code: "not_today" });
    },
    actions: { n: (c) => c.state.n },
  });
  const server = start(setup({ use: { fragile } }), { driver });
  await expect(server.client.fragile.create("f")).rejects.toMatchObject({ code: "not_today" });
  expect(driver.size).toBe(0);
  await expect(server.client.fragile.get("f").n()).rejects.toMatchObject({ code: "actor_not_found" });
  expect(await (await server.client.fragile.create("f")).n()).toBe(0);
});

function connRegistry(log: string[]) {
  const room = actor({
    state: { connects: 0 },
    onBeforeConnect: (_c, opts) => {
      log.push(`before:${opts.params?.name ?? "-"}`);
      if (opts.params?.name === "mallory") throw new Forbidden("Go away");
      if (opts.params?.name === "typo") throw new UserError("Bad name", { code: "bad_name" });
    },
    onConnect: (c, conn) => {
      c.state.connects++;
      log.push(`connect:${conn.params?.name ?? "-"}:${c.conns.has(conn.id)}`);
    },
    onDisconnect: (c, conn) => {
      log.push(`disconnect:${conn.params?.name ?? "-"}:${c.conns.has(conn.id)}`);
    },
    actions: {
      connCount: (c) => c.conns.size,
      connects: (c) => c.state.connects,
      whoAmI: (c) => ({ id: c.conn.id, live: c.conn.live }),
    },
  });
  return setup({ use: { room } });
}

test("onBeforeConnect then onConnect on connect(); onDisconnect on dispose()", async () => {
  const log: string[] = [];
  const server = start(connRegistry(log));
  const handle = server.client.room.getOrCreate("r", { params: { name: "alice" } });
  const conn = handle.connect();
  await conn.whenSynced();
  expect(log).toEqual(["before:alice", "connect:alice:true"]);
  expect(await handle.connCount()).toBe(1);
  expect(await conn.connCount()).toBe(1);
  const second = server.client.room.get("r", { params: { name: "bob" } }).connect();
  await second.whenSynced();
  expect(await handle.connCount()).toBe(2);
  await conn.dispose();
  expect(log).toEqual(["before:alice", "connect:alice:true", "before:bob", "connect:bob:true", "disconnect:alice:false"]);
  expect(await handle.connCount()).toBe(1);
  // Disposing twice runs onDisconnect once.
  await conn.dispose();
  await second.dispose();
  expect(log.filter((l) => l.startsWith("disconnect"))).toEqual(["disconnect:alice:false", "disconnect:bob:false"]);
  expect(await handle.connCount()).toBe(0);
  expect(await handle.connects()).toBe(2);
  // A disposed connection's actions reject.
  await expect(conn.connCount()).rejects.toMatchObject({ code: "actor_stopped" });
});

test("a throwing onBeforeConnect refuses the connection: its actions reject and onConnect never runs", async () => {
  const log: string[] = [];
  const server = start(connRegistry(log));
  const handle = server.client.room.getOrCreate("r", { params: { name: "mallory" } });
  const conn = handle.connect();
  const error = await rejection(conn.whenSynced());
  expect(error).toBeInstanceOf(Forbidden);
  expect(error).toMatchObject({ code: "forbidden", message: "Go away" });
  await expect(conn.connCount()).rejects.toMatchObject({ code: "forbidden" });
  expect(log).toEqual(["before:mallory"]);
  expect(await handle.connCount()).toBe(0);
  expect(await handle.connects()).toBe(0);
  await conn.dispose();
  expect(log).toEqual(["before:mallory"]); // no onDisconnect for a refused connection

  const typo = server.client.room.get("r", { params: { name: "typo" } }).connect();
  await expect(typo.whenSynced()).rejects.toMatchObject({ code: "bad_name", message: "Bad name" });
  await typo.dispose();
});

test("vars: fresh per instance (literal and createVars), not persisted across a reload", async () => {
  let created = 0;
  const literal = actor({
    state: { n: 0 },
    vars: { hits: 0, list: [] as number[] },
    actions: {
      hit: (c) => {
        c.vars.list.push(++c.vars.hits);
        return c.vars.list;
      },
    },
  });
  const computed = actor({
    state: {},
    createVars: async () => ({ instance: ++created, hits: 0 }),
    actions: {
      hit: (c) => ({ instance: c.vars.instance, hits: ++c.vars.hits }),
    },
  });
  const registry = setup({ use: { literal, computed } });
  const driver = memoryDriver();
  const first = start(registry, { driver });
  expect(await first.client.literal.getOrCreate("a").hit()).toEqual([1]);
  expect(await first.client.literal.getOrCreate("a").hit()).toEqual([1, 2]);
  expect(await first.client.literal.getOrCreate("b").hit()).toEqual([1]); // not shared between actors
  expect(await first.client.computed.getOrCreate("a").hit()).toEqual({ instance: 1, hits: 1 });
  expect(await first.client.computed.getOrCreate("a").hit()).toEqual({ instance: 1, hits: 2 });
  expect(await first.client.computed.getOrCreate("b").hit()).toEqual({ instance: 2, hits: 1 });
  await first.close();

  const second = start(registry, { driver });
  expect(await second.client.literal.get("a").hit()).toEqual([1]);
  expect(await second.client.computed.get("a").hit()).toEqual({ instance: 3, hits: 1 });
});

test("privateState: persisted across a reload, never in c.state, rolled back when an action throws", async () => {
  const vault = actor({
    state: { public: "p" },
    privateState: { secret: "s0", history: [] as string[] },
    actions: {
      setSecret: (c, secret: string) => {
        c.privateState.secret = secret;
        c.privateState.history.push(secret);
      },
      setSecretThenFail: (c, secret: string) => {
        c.privateState.secret = secret;
        c.privateState.history.push(secret);
        c.state.public = "changed";
        throw new UserError("nope");
      },
      replaceThenFail: (c) => {
        c.privateState = { secret: "replaced", history: [] };
        throw new Error("boom");
      },
      secret: (c) => ({ ...c.privateState, history: [...c.privateState.history] }),
      stateJson: (c) => JSON.parse(JSON.stringify(c.state)) as unknown,
      stateKeys: (c) => Object.keys(c.state),
    },
  });
  const registry = setup({ use: { vault } });
  const driver = memoryDriver();
  const first = start(registry, { driver });
  const handle = first.client.vault.getOrCreate("v");
  expect(await handle.secret()).toEqual({ secret: "s0", history: [] });
  await handle.setSecret("s1");
  expect(await handle.secret()).toEqual({ secret: "s1", history: ["s1"] });
  await expect(handle.setSecretThenFail("s2")).rejects.toMatchObject({ message: "nope" });
  expect(await handle.secret()).toEqual({ secret: "s1", history: ["s1"] });
  await expect(handle.replaceThenFail()).rejects.toMatchObject({ code: "internal_error" });
  expect(await handle.secret()).toEqual({ secret: "s1", history: ["s1"] });
  expect(await handle.stateJson()).toEqual({ public: "p" });
  expect(await handle.stateKeys()).toEqual(["public"]);
  await first.close();

  const second = start(registry, { driver });
  const again = second.client.vault.get("v");
  expect(await again.secret()).toEqual({ secret: "s1", history: ["s1"] });
  expect(await again.stateJson()).toEqual({ public: "p" });
});

test("privateState of one actor is its own (the literal is copied)", async () => {
  const vault = actor({
    state: {},
    privateState: { items: [] as string[] },
    actions: {
      add: (c, item: string) => {
        c.privateState.items.push(item);
        return c.privateState.items.length;
      },
    },
  });
  const server = start(setup({ use: { vault } }));
  expect(await server.client.vault.getOrCreate("a").add("x")).toBe(1);
  expect(await server.client.vault.getOrCreate("b").add("y")).toBe(1);
  expect(await server.client.vault.getOrCreate("a").add("z")).toBe(2);
});

test("an idle actor sleeps (onStop), keeps its state, and wakes on the next call (onStart)", async () => {
  const log: string[] = [];
  const sleepy = actor({
    state: { count: 0 },
    options: { sleepAfterMs: 50 },
    onStart: () => void log.push("start"),
    onStop: () => void log.push("stop"),
    actions: {
      increment: (c) => ({ count: ++c.state.count, id: c.actorId }),
    },
  });
  const server = start(setup({ use: { sleepy } }));
  const handle = server.client.sleepy.getOrCreate("s");
  const { count, id } = await handle.increment();
  expect(count).toBe(1);
  expect(server.runtime.loaded.has(id)).toBe(true);
  await waitFor(() => !server.runtime.loaded.has(id), { what: "the actor to sleep" });
  expect(log).toEqual(["start", "stop"]);
  expect((await handle.increment()).count).toBe(2);
  expect(server.runtime.loaded.has(id)).toBe(true);
  expect(log).toEqual(["start", "stop", "start"]);
});

test("a connected actor does not sleep; it sleeps once the connection is gone", async () => {
  const sleepy = actor({
    state: { count: 0 },
    options: { sleepAfterMs: 30 },
    actions: { increment: (c) => ++c.state.count },
  });
  const server = start(setup({ use: { sleepy } }));
  const handle = server.client.sleepy.getOrCreate("s");
  const id = await handle.resolve();
  const conn = handle.connect();
  await conn.whenSynced();
  await sleep(120);
  expect(server.runtime.loaded.has(id)).toBe(true);
  expect(await conn.increment()).toBe(1);
  await conn.dispose();
  await waitFor(() => !server.runtime.loaded.has(id), { what: "the actor to sleep" });
  expect(await handle.increment()).toBe(2);
});

test("c.sleep() unloads the actor after the action", async () => {
  const log: string[] = [];
  const napper = actor({
    state: { n: 0 },
    onStop: () => void log.push("stop"),
    actions: {
      nap: (c) => {
        c.state.n++;
        c.sleep();
        return c.state.n;
      },
    },
  });
  const server = start(setup({ use: { napper } }));
  const handle = server.client.napper.getOrCreate("n");
  const id = await handle.resolve();
  expect(await handle.nap()).toBe(1);
  await waitFor(() => !server.runtime.loaded.has(id), { what: "the actor to sleep" });
  expect(log).toEqual(["stop"]);
  expect(await handle.nap()).toBe(2);
});

function mailboxRegistry() {
  const serial = actor({
    state: { done: [] as number[] },
    vars: { events: [] as string[], running: 0, maxRunning: 0 },
    actions: {
      work: async (c, i: number) => {
        c.vars.events.push(`start:${i}`);
        c.vars.running++;
        c.vars.maxRunning = Math.max(c.vars.maxRunning, c.vars.running);
        await sleep(Math.floor(Math.random() * 4));
        await Promise.resolve();
        c.state.done.push(i);
        await sleep(Math.floor(Math.random() * 3));
        c.vars.running--;
        c.vars.events.push(`end:${i}`);
        return i;
      },
      report: (c) => ({ events: [...c.vars.events], maxRunning: c.vars.maxRunning, done: [...c.state.done] }),
    },
  });
  return setup({ use: { serial } });
}

const expectedSerial = (n: number) => Array.from({ length: n }, (_, i) => [`start:${i}`, `end:${i}`]).flat();

test("mailbox: concurrent async actions run one at a time, in arrival order", async () => {
  const server = start(mailboxRegistry());
  const handle = server.client.serial.getOrCreate("m");
  await handle.resolve();
  const n = 25;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => handle.work(i)));
  expect(results).toEqual(Array.from({ length: n }, (_, i) => i));
  const report = await handle.report();
  expect(report.maxRunning).toBe(1);
  expect(report.events).toEqual(expectedSerial(n));
  expect(report.done).toEqual(Array.from({ length: n }, (_, i) => i));
});

test("mailbox: arrival order holds while the actor is still loading, across handles", async () => {
  const server = start(mailboxRegistry());
  const n = 20;
  const calls = Array.from({ length: n }, (_, i) =>
    i % 2 === 0 ? server.client.serial.getOrCreate("m").work(i) : server.client.serial.getOrCreate(["m"]).work(i),
  );
  await Promise.all(calls);
  const report = await server.client.serial.get("m").report();
  expect(report.maxRunning).toBe(1);
  expect(report.events).toEqual(expectedSerial(n));
});

test("mailbox: calls of connections and handles run one at a time, each caller's in its order", async () => {
  const server = start(mailboxRegistry());
  const n = 21;
  const conn = server.client.serial.getOrCreate("m").connect();
  await conn.whenSynced();
  const other = server.client.serial.get("m").connect();
  await other.whenSynced();
  const handle = server.client.serial.get("m");
  const calls = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? conn.work(i) : i % 3 === 1 ? handle.work(i) : other.work(i)));
  await Promise.all(calls);
  const report = await handle.report();
  expect(report.maxRunning).toBe(1);
  // Every action ran to completion before the next started...
  const order = report.events.filter((e) => e.startsWith("start:")).map((e) => Number(e.slice(6)));
  expect(report.events).toEqual(order.flatMap((i) => [`start:${i}`, `end:${i}`]));
  expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  // ...and each caller's actions ran in the order it called them.
  for (const r of [0, 1, 2]) {
    const mine = order.filter((i) => i % 3 === r);
    expect(mine).toEqual([...mine].sort((a, b) => a - b));
  }
  await conn.dispose();
  await other.dispose();
});

test("an onConnect that throws refuses the connection and leaves no connection behind", async () => {
  const log: string[] = [];
  const picky = actor({
    state: { connects: 0 },
    onConnect: (c, conn) => {
      c.state.connects++;
      if (conn.params.name === "bad") throw new UserError("Not you", { code: "not_you" });
    },
    onDisconnect: (_c, conn) => void log.push(`disconnect:${conn.params.name}`),
    actions: {
      connCount: (c) => c.conns.size,
      connects: (c) => c.state.connects,
    },
  });
  const server = start(setup({ use: { picky } }));
  const conn = server.client.picky.getOrCreate("p", { params: { name: "bad" } }).connect();
  await expect(conn.whenSynced()).rejects.toMatchObject({ code: "not_you", message: "Not you" });
  await expect(conn.connCount()).rejects.toMatchObject({ code: "not_you" });
  const handle = server.client.picky.get("p");
  expect(await handle.connCount()).toBe(0);
  expect(await handle.connects()).toBe(0); // the hook's writes were dropped with it
  await conn.dispose();
  expect(log).toEqual([]);
});

test("createPrivateState receives the create input; privateState never reaches a caller", async () => {
  const account = actor({
    createState: (_c, input: { owner: string; apiKey: string }) => ({ owner: input.owner }),
    createPrivateState: (_c, input) => ({ apiKey: input.apiKey }),
    actions: {
      info: (c) => c.state,
      keyLength: (c) => c.privateState.apiKey.length,
    },
  });
  const server = start(setup({ use: { account } }));
  const handle = await server.client.account.create("a", { input: { owner: "ann", apiKey: "k-123456" } });
  expect(await handle.info()).toEqual({ owner: "ann" });
  expect(await handle.keyLength()).toBe(8);
});

test("writes made in onStart and onStop are persisted", async () => {
  const tally = actor({
    state: { starts: 0, stops: 0 },
    onStart: (c) => void c.state.starts++,
    onStop: (c) => void c.state.stops++,
    actions: { read: (c) => ({ ...c.state }) },
  });
  const registry = setup({ use: { tally } });
  const driver = memoryDriver();
  const first = start(registry, { driver });
  expect(await first.client.tally.getOrCreate("t").read()).toEqual({ starts: 1, stops: 0 });
  await first.close();
  const second = start(registry, { driver });
  expect(await second.client.tally.get("t").read()).toEqual({ starts: 2, stops: 1 });
});

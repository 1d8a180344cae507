/**
 * The actor lifecycle on the embedded default driver (DESIGN §6: `fileDriver({ dir })`), with
 * real servers, real clients over the network, and a data directory in os.tmpdir():
 *
 * - sleep and wake: an idle actor is unloaded and comes back from disk with its state;
 *   a connected client keeps it awake; after sleep a new connection gets the same state and
 *   every replica converges with the actor;
 * - schedules: `c.schedule.after` is persisted by the file driver and fires after a restart
 *   (a new server on a new fileDriver over the same directory) without any call; an alarm
 *   missed while no server ran fires exactly once, at start; schedules due together fire
 *   once each;
 * - graceful shutdown: `close()` while actions are in flight completes every action already
 *   accepted and makes it durable, runs onStop, closes sockets with 1001 and a retry-after
 *   hint; clients come back when a server returns on the same port, and nothing they sent
 *   around the close is lost or applied twice.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { actor, setup } from "tandem";
import { createClient, type Client, type SocketLike } from "tandem/client";
import { createServer, fileDriver, type ServerOptions, type TandemServer } from "tandem/server";
import { rejection, sleep, waitFor, within } from "./seed-helpers.ts";

// ---------------------------------------------------------------------------------------
// Harness: everything a test opens is closed after it, clients first, directories last.

const opened = { clients: [] as { dispose(): void }[], servers: [] as { close(): Promise<void> }[], dirs: [] as string[] };

afterEach(async () => {
  for (const client of opened.clients.splice(0)) client.dispose();
  await Promise.all(opened.servers.splice(0).map((server) => server.close()));
  await Promise.all(opened.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  driverWarnings.length = 0;
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-file-lifecycle-"));
  opened.dirs.push(dir);
  return dir;
}

/** Recovery warnings of the driver (none are expected after clean shutdowns). */
const driverWarnings: string[] = [];

/** A server on a new fileDriver over `dir`: a fresh process would see exactly this. */
function serverOn(dir: string, options: ServerOptions = {}): TandemServer<R> {
  const driver = fileDriver({ dir, log: { warn: (_obj, msg) => void driverWarnings.push(String(msg)) } });
  const server = createServer(registry, { logger: false, ...options, driver });
  opened.servers.push(server);
  return server;
}

const BACKOFF = { baseMs: 20, maxMs: 100 } as const;

/** A network client (fast reconnects) that records how its sockets were closed by the server. */
function networkClient<R>(url: string): { client: Client<R>; closes: { code: number; reason: string }[] } {
  const closes: { code: number; reason: string }[] = [];
  const socketFactory = (socketUrl: string): SocketLike => {
    const ws = new WebSocket(socketUrl);
    ws.on("close", (code, reason) => closes.push({ code, reason: reason.toString() }));
    return ws as unknown as SocketLike;
  };
  const client = createClient<R>(url, { backoff: BACKOFF, socketFactory });
  opened.clients.push(client);
  return { client, closes };
}

// ---------------------------------------------------------------------------------------
// Actors

/** What happened, seen from outside the actors (reading it never loads one). */
const events: string[] = [];
const eventsOf = (prefix: string) => events.filter((e) => e.startsWith(prefix));

const SLEEP_MS = 100;

const sleepy = actor({
  state: { items: [] as string[], starts: 0, stops: 0 },
  privateState: { calls: 0 },
  options: { sleepAfterMs: SLEEP_MS },
  onStart: (c) => {
    c.state.starts++;
    events.push(`start:${c.key.join("/")}`);
  },
  onStop: (c) => {
    c.state.stops++;
    events.push(`stop:${c.key.join("/")}`);
  },
  actions: {
    add: (c, item: string) => {
      c.state.items.push(item);
      c.privateState.calls++;
      return c.state.items.length;
    },
    read: (c) => ({ items: [...c.state.items], starts: c.state.starts, stops: c.state.stops, calls: c.privateState.calls }),
  },
});

const timer = actor({
  state: { rang: [] as string[] },
  options: { sleepAfterMs: 0 },
  actions: {
    after: (c, ms: number, label: string) => {
      c.schedule.after(ms, "ring", label);
      return Date.now() + ms;
    },
    ring: (c, label: string) => {
      events.push(`ring:${c.key.join("/")}:${label}`);
      c.state.rang.push(label);
    },
    /** Three schedules due at the same moment. */
    together: (c, at: number) => {
      for (const label of ["x", "y", "z"]) c.schedule.at(at, "ring", label);
    },
    rang: (c) => [...c.state.rang],
  },
});

/** A timer that sleeps when idle: its pending schedule must be kept while it is unloaded. */
const napper = actor({
  state: { rang: [] as string[] },
  options: { sleepAfterMs: 30 },
  actions: {
    after: (c, ms: number, label: string) => void c.schedule.after(ms, "ring", label),
    ring: (c, label: string) => {
      events.push(`ring:${c.key.join("/")}:${label}`);
      c.state.rang.push(label);
    },
    rang: (c) => [...c.state.rang],
  },
});

const worker = actor({
  state: { items: [] as string[], stops: 0 },
  options: { sleepAfterMs: 0 },
  onStop: (c) => {
    c.state.stops++;
    events.push(`stop:${c.key.join("/")}`);
  },
  actions: {
    /** Appends after `ms` (the mailbox runs one at a time, so later calls queue behind it). */
    add: async (c, item: string, ms = 0) => {
      events.push(`run:${c.key.join("/")}:${item}`);
      if (ms > 0) await sleep(ms);
      c.state.items.push(item);
      return c.state.items.length;
    },
    read: (c) => ({ items: [...c.state.items], stops: c.state.stops }),
  },
});

const registry = setup({ use: { sleepy, timer, napper, worker } });
type R = typeof registry;

function noDuplicates(items: readonly string[]): void {
  expect(new Set(items).size, `duplicates in ${JSON.stringify(items)}`).toBe(items.length);
}

// ---------------------------------------------------------------------------------------

describe("sleep and wake on the file driver", () => {
  test("an idle actor sleeps (onStop) and wakes from disk with its state, privateState and a compacted log, again and again", async () => {
    events.length = 0;
    const dir = await dataDir();
    const server = serverOn(dir, { compactAfterCommits: 3 });
    const handle = server.client.sleepy.getOrCreate("s");
    const id = await handle.resolve();
    for (let round = 1; round <= 3; round++) {
      expect(await handle.add(`r${round}a`)).toBe(2 * round - 1);
      expect(await handle.add(`r${round}b`)).toBe(2 * round);
      await waitFor(() => !server.runtime.loaded.has(id), { what: `sleep #${round}` });
      expect(eventsOf("stop:s")).toHaveLength(round);
    }
    const state = await handle.read();
    expect(state.items).toEqual(["r1a", "r1b", "r2a", "r2b", "r3a", "r3b"]);
    expect(state.calls).toBe(6);
    expect(state.starts).toBe(4); // created, then woken three times
    expect(state.stops).toBe(3); // onStop's writes were made durable before each unload
    expect(eventsOf("start:s")).toHaveLength(4);
    expect(driverWarnings).toEqual([]);
  });

  test("an idle timer that falls while a compaction runs still lets the actor sleep", async () => {
    events.length = 0;
    const dir = await dataDir();
    // Each step of a compaction takes 100 ms: the idle timer (SLEEP_MS) falls in the middle.
    let compacting = false;
    const compactionStep = () => {
      compacting = true;
      return sleep(100);
    };
    const driver = fileDriver({ dir, log: { warn: (_obj, msg) => void driverWarnings.push(String(msg)) }, testHooks: { compactionStep } });
    const server = createServer(registry, { logger: false, driver, compactAfterCommits: 3 });
    opened.servers.push(server);
    const handle = server.client.sleepy.getOrCreate("z");
    const id = await handle.resolve();
    // Calls until one of them started a compaction: it is the last work the actor gets.
    const added: string[] = [];
    for (let i = 0; i < 10 && !compacting; i++) {
      added.push(`i${i}`);
      await handle.add(`i${i}`);
      await sleep(20);
    }
    expect(compacting).toBe(true);
    await waitFor(() => !server.runtime.loaded.has(id), { timeoutMs: 3000, what: "the actor to sleep once the compaction is done" });
    expect(eventsOf("stop:z")).toHaveLength(1);
    expect((await handle.read()).items).toEqual(added);
  });

  test("a connected client keeps the actor awake; after it leaves the actor sleeps, and a new connection gets the same state", async () => {
    events.length = 0;
    const dir = await dataDir();
    const server = serverOn(dir);
    const url = await server.listen();
    const { client: a } = networkClient<R>(url);
    const connA = a.sleepy.getOrCreate("c").connect();
    await within(connA.whenSynced(), 5000, "A to sync");
    expect(await connA.add("a1")).toBe(1);
    const id = connA.actorId!;
    await sleep(SLEEP_MS * 4); // four sleep periods with no traffic, but a connection
    expect(server.runtime.loaded.has(id)).toBe(true);
    expect(eventsOf("stop:c")).toEqual([]);
    expect(await connA.add("a2")).toBe(2);

    connA.dispose();
    await waitFor(() => !server.runtime.loaded.has(id), { what: "the actor to sleep once A left" });
    expect(eventsOf("stop:c")).toHaveLength(1);

    // A new client wakes it from disk and gets the same state.
    const { client: b } = networkClient<R>(url);
    const connB = b.sleepy.getOrCreate("c").connect();
    await within(connB.whenSynced(), 5000, "B to sync");
    expect(server.runtime.loaded.has(id)).toBe(true);
    expect([...connB.state!.items]).toEqual(["a1", "a2"]);

    // A comes back with its stored replica; both write concurrently; everything converges.
    const connA2 = a.sleepy.getOrCreate("c").connect();
    await within(connA2.whenSynced(), 5000, "A to sync again");
    expect([...connA2.state!.items]).toEqual(["a1", "a2"]);
    await Promise.all([connA2.add("a3"), connB.add("b1"), connA2.add("a4"), connB.add("b2")]);
    const expected = (await server.client.sleepy.get("c").read()).items;
    expect([...expected].sort()).toEqual(["a1", "a2", "a3", "a4", "b1", "b2"]);
    await waitFor(() => JSON.stringify([...connA2.state!.items]) === JSON.stringify(expected) && JSON.stringify([...connB.state!.items]) === JSON.stringify(expected), {
      what: "both replicas to match the actor",
    });

    // Sleep again with nobody connected; a third client, and both old replicas, still agree.
    connA2.dispose();
    connB.dispose();
    await waitFor(() => !server.runtime.loaded.has(id), { what: "the second sleep" });
    const { client: c } = networkClient<R>(url);
    const connC = c.sleepy.getOrCreate("c").connect();
    await within(connC.whenSynced(), 5000, "C to sync");
    expect([...connC.state!.items]).toEqual(expected);
    const connB2 = b.sleepy.getOrCreate("c").connect();
    await within(connB2.whenSynced(), 5000, "B to sync again");
    expect(await connB2.add("b3")).toBe(7);
    await waitFor(() => connC.state!.items.length === 7, { what: "C to see B's write" });
    expect([...connC.state!.items]).toEqual([...expected, "b3"]);
    expect([...connB2.state!.items]).toEqual([...expected, "b3"]);
    noDuplicates([...connC.state!.items]);
    expect(driverWarnings).toEqual([]);
  });
});

describe("schedules on the file driver", () => {
  test("a schedule persisted by the file driver fires after a restart without any call, once", async () => {
    events.length = 0;
    const dir = await dataDir();
    const first = serverOn(dir);
    const due = await first.client.timer.getOrCreate("t").after(400, "survived");
    await first.close();
    expect(eventsOf("ring:t")).toEqual([]);

    const second = serverOn(dir);
    await second.ready;
    // Nobody calls the actor: the alarm stored in the directory wakes it.
    await waitFor(() => eventsOf("ring:t").length === 1, { timeoutMs: 5000, what: "the schedule after a restart" });
    expect(Date.now()).toBeGreaterThanOrEqual(due); // not early
    expect(eventsOf("ring:t")).toEqual(["ring:t:survived"]);
    expect(await second.client.timer.get("t").rang()).toEqual(["survived"]);
    await second.close();

    const third = serverOn(dir);
    await third.ready;
    await sleep(150);
    expect(eventsOf("ring:t")).toHaveLength(1);
    expect(third.runtime.loaded.size).toBe(0); // no alarm is left in the directory
    expect(await third.client.timer.get("t").rang()).toEqual(["survived"]);
  });

  test("schedules due at the same moment fire once each (no restart)", async () => {
    events.length = 0;
    const dir = await dataDir();
    const server = serverOn(dir);
    await server.client.timer.getOrCreate("s").together(Date.now() + 100);
    await waitFor(() => eventsOf("ring:s").length >= 3, { timeoutMs: 5000, what: "the schedules" });
    await sleep(150);
    expect(eventsOf("ring:s").join(", ")).toBe("ring:s:x, ring:s:y, ring:s:z");
    expect(await server.client.timer.get("s").rang()).toEqual(["x", "y", "z"]);
  });

  test("alarms missed while no server ran fire exactly once at start (also of an actor that was asleep)", async () => {
    events.length = 0;
    const dir = await dataDir();
    const first = serverOn(dir);
    // An actor that goes to sleep with a schedule pending: its alarm is kept while it is unloaded.
    const nap = first.client.napper.getOrCreate("n");
    const napId = await nap.resolve();
    await nap.after(400, "asleep");
    const napDue = Date.now() + 400;
    await waitFor(() => !first.runtime.loaded.has(napId), { what: "the napper to sleep" });
    // A loaded actor with three schedules due soon; the server stops before they are due.
    await first.client.timer.getOrCreate("m").after(250, "late");
    await first.client.timer.getOrCreate("m").after(260, "later");
    await first.client.timer.getOrCreate("m").after(270, "latest");
    await first.close();
    expect(eventsOf("ring:")).toEqual([]); // the server was closed before anything was due
    await sleep(Math.max(napDue - Date.now(), 50) + 50); // down past every alarm
    expect(eventsOf("ring:")).toEqual([]);

    const second = serverOn(dir);
    await second.ready;
    await waitFor(() => eventsOf("ring:").length >= 4, { timeoutMs: 5000, what: "the missed alarms" }).catch((error: Error) => {
      throw new Error(`${error.message}; fired: ${JSON.stringify(eventsOf("ring:"))}`);
    });
    await sleep(150);
    // Each exactly once, in time order.
    expect(eventsOf("ring:m").join(", ")).toBe(["ring:m:late", "ring:m:later", "ring:m:latest"].join(", "));
    expect(eventsOf("ring:n")).toEqual(["ring:n:asleep"]);
    expect(await second.client.timer.get("m").rang()).toEqual(["late", "later", "latest"]);
    expect(await second.client.napper.get("n").rang()).toEqual(["asleep"]);
    await second.close();

    const third = serverOn(dir);
    await third.ready;
    await sleep(150);
    expect(eventsOf("ring:")).toHaveLength(4);
    expect(third.runtime.loaded.size).toBe(0);
  });
});

describe("graceful shutdown on the file driver", () => {
  test("close() with actions in flight: every accepted action completes and is durable, onStop runs, later calls are refused", async () => {
    events.length = 0;
    const dir = await dataDir();
    const first = serverOn(dir);
    const k = first.client.worker.getOrCreate("k");
    const j = first.client.worker.getOrCreate("j");
    const calls = [
      ...Array.from({ length: 8 }, (_, i) => k.add(`k${i}`, 15)),
      ...Array.from({ length: 4 }, (_, i) => j.add(`j${i}`, 5)),
    ];
    await waitFor(() => eventsOf("run:k").length > 0 && eventsOf("run:j").length > 0, { what: "the actions to start" });
    const closing = first.close();
    const late = rejection(first.client.worker.getOrCreate("k").add("late"));
    expect(await within(Promise.all(calls), 5000, "the accepted actions")).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4]);
    await within(closing, 5000, "close()");
    expect((await late).code).toBe("actor_stopped");
    expect(eventsOf("stop:").sort()).toEqual(["stop:j", "stop:k"]);
    // onStop ran after the queued work.
    expect(events.indexOf("stop:k")).toBeGreaterThan(events.indexOf("run:k:k7"));
    expect(existsSync(join(dir, "LOCK"))).toBe(false); // the driver was closed

    const second = serverOn(dir);
    expect(await second.client.worker.get("k").read()).toEqual({ items: ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"], stops: 1 });
    expect(await second.client.worker.get("j").read()).toEqual({ items: ["j0", "j1", "j2", "j3"], stops: 1 });
    expect(driverWarnings).toEqual([]);
  });

  test("connected clients see 1001 with retry-after, come back when a server returns on the same port, and nothing they sent is lost or doubled", async () => {
    events.length = 0;
    const dir = await dataDir();
    const first = serverOn(dir, { closeRetryAfterMs: 50 });
    const url = await first.listen();
    const port = first.port;
    const { client, closes } = networkClient<R>(url);
    const conn = client.worker.getOrCreate("w").connect();
    await within(conn.whenSynced(), 5000, "the first sync");
    expect(await conn.add("before")).toBe(1);

    // Work in flight: a slow action, with more queued behind it.
    const outcome = (call: Promise<number>) => call.then((n): number | string => n, (error: { code?: string }) => `rejected: ${error.code ?? String(error)}`);
    const inflight = [conn.add("slow", 150), conn.add("q1"), conn.add("q2")].map(outcome);
    await waitFor(() => eventsOf("run:w:slow").length === 1, { what: "the slow action to start" });
    const closing = first.close();
    // Sent while the server drains (the socket is still open): accepted now or resent later.
    const during = [conn.add("d1"), conn.add("d2")].map(outcome);
    await within(closing, 5000, "close()");

    expect(eventsOf("stop:w")).toEqual(["stop:w"]);
    await waitFor(() => closes.length > 0, { what: "the client to see its socket close" });
    expect(closes[0]!.code).toBe(1001);
    expect(closes[0]!.reason).toMatch(/retry-after=50\b/);
    expect(conn.status).not.toBe("synced");
    await sleep(100); // the client retries against nothing for a while

    const second = serverOn(dir);
    await second.listen({ port });
    const results = await within(Promise.all([...inflight, ...during]), 5000, "the calls made around the close");
    expect(results.join(", ")).toBe([2, 3, 4, 5, 6].join(", "));
    await waitFor(() => conn.status === "synced", { what: "the client to be synced again" });

    const stored = await second.client.worker.get("w").read();
    expect(stored.items).toEqual(["before", "slow", "q1", "q2", "d1", "d2"]);
    expect(stored.stops).toBe(1);
    expect([...conn.state!.items]).toEqual(stored.items);
    // Each action ran exactly once, across both servers.
    for (const item of stored.items.slice(1)) expect(eventsOf(`run:w:${item}`), item).toHaveLength(1);
    expect(await conn.add("after")).toBe(7);
  });
});

/**
 * Durable schedules: `c.schedule.after` / `.at` fire their action with its arguments, can be
 * cancelled, are dropped with an action that throws, survive a restart (the actor is woken
 * without any call), and an alarm missed while the server was down fires once at start.
 */
import { expect, test } from "vitest";
import { actor, setup, UserError } from "tandem";
import { memoryDriver } from "tandem/server";
import { sleep, useServers, waitFor } from "./seed-helpers.ts";

/** What fired, seen from outside the actor (so checking it never loads the actor). */
const fired: { key: string; args: unknown[]; at: number }[] = [];
const firedFor = (key: string) => fired.filter((f) => f.key === key);

const timer = actor({
  state: { fired: [] as unknown[][], scheduled: [] as string[] },
  actions: {
    after: (c, ms: number, ...args: unknown[]) => {
      const id = c.schedule.after(ms, "ring", ...args);
      c.state.scheduled.push(id);
      return id;
    },
    at: (c, timestamp: number, ...args: unknown[]) => c.schedule.at(timestamp, "ring", ...args),
    cancel: (c, id: string) => {
      c.schedule.cancel(id);
    },
    scheduleThenFail: (c, ms: number) => {
      c.schedule.after(ms, "ring", "from a failed action");
      throw new UserError("changed my mind");
    },
    scheduleAndCancelAtOnce: (c, ms: number) => {
      const id = c.schedule.after(ms, "ring", "cancelled in the same action");
      c.schedule.cancel(id);
      c.schedule.after(ms, "ring", "kept");
    },
    scheduleMissing: (c, ms: number) => c.schedule.after(ms, "noSuchAction"),
    scheduleFailing: (c, ms: number) => {
      c.schedule.after(ms, "failOnce");
      c.schedule.after(ms + 5, "ring", "after the failure");
    },
    failOnce: () => {
      throw new Error("scheduled action failed");
    },
    ring: (c, ...args: unknown[]) => {
      fired.push({ key: c.key.join("/"), args, at: Date.now() });
      c.state.fired.push(args);
      expectLiveIsFalse(c.conn.live);
    },
    firedInState: (c) => c.state.fired,
  },
});

function expectLiveIsFalse(live: boolean): void {
  if (live) throw new Error("a schedule's caller is not a live connection");
}

const registry = setup({ use: { timer } });
const start = useServers();

test("after(ms, action, ...args) fires the action with its arguments", async () => {
  const server = start(registry);
  const handle = server.client.timer.getOrCreate("after");
  const t0 = Date.now();
  const id = await handle.after(20, "hello", { n: 1, list: [1, "two"] }, null);
  expect(typeof id).toBe("string");
  await waitFor(() => firedFor("after").length === 1, { what: "the schedule to fire" });
  const [entry] = firedFor("after");
  expect(entry!.args).toEqual(["hello", { n: 1, list: [1, "two"] }, null]);
  expect(entry!.at - t0).toBeGreaterThanOrEqual(15);
  expect(await handle.firedInState()).toEqual([["hello", { n: 1, list: [1, "two"] }, null]]);
  // It fires once.
  await sleep(30);
  expect(firedFor("after")).toHaveLength(1);
});

test("at(timestamp, ...) fires at that time; schedules fire in time order", async () => {
  const server = start(registry);
  const handle = server.client.timer.getOrCreate("at");
  const now = Date.now();
  await handle.at(now + 45, "third");
  await handle.at(now + 15, "first");
  await handle.at(now - 1000, "past");
  const beforeAfter = Date.now();
  await handle.after(30, "relative");
  await waitFor(() => firedFor("at").length === 4, { what: "four schedules" });
  const got = firedFor("at");
  expect(got.map((f) => f.args[0]).filter((name) => name !== "relative")).toEqual(["past", "first", "third"]);
  expect(got.find((f) => f.args[0] === "first")!.at).toBeGreaterThanOrEqual(now + 14);
  expect(got.find((f) => f.args[0] === "third")!.at).toBeGreaterThanOrEqual(now + 44);
  expect(got.find((f) => f.args[0] === "relative")!.at).toBeGreaterThanOrEqual(beforeAfter + 29);
});

test("cancel(id) stops a schedule from firing", async () => {
  const server = start(registry);
  const handle = server.client.timer.getOrCreate("cancel");
  const cancelled = await handle.after(100, "cancelled");
  await handle.after(120, "kept");
  await handle.cancel(cancelled);
  await handle.cancel("no-such-schedule"); // harmless
  await waitFor(() => firedFor("cancel").length === 1, { what: "the kept schedule" });
  await sleep(10);
  expect(firedFor("cancel").map((f) => f.args[0])).toEqual(["kept"]);

  await handle.scheduleAndCancelAtOnce(10);
  await waitFor(() => firedFor("cancel").length === 2, { what: "the second kept schedule" });
  await sleep(15);
  expect(firedFor("cancel").map((f) => f.args[0])).toEqual(["kept", "kept"]);
});

test("a schedule created in an action that then throws never fires", async () => {
  const server = start(registry);
  const handle = server.client.timer.getOrCreate("throws");
  await expect(handle.scheduleThenFail(10)).rejects.toMatchObject({ message: "changed my mind" });
  await handle.after(30, "marker");
  await waitFor(() => firedFor("throws").length === 1, { what: "the marker" });
  expect(firedFor("throws").map((f) => f.args[0])).toEqual(["marker"]);
});

test("a failing or missing scheduled action does not stop later schedules", async () => {
  const driver = memoryDriver();
  const server = start(registry, { driver });
  const handle = server.client.timer.getOrCreate("failing");
  await handle.scheduleMissing(5);
  await handle.scheduleFailing(10);
  await waitFor(() => firedFor("failing").length === 1, { what: "the schedule after the failure" });
  expect(firedFor("failing")[0]!.args).toEqual(["after the failure"]);
  expect(await handle.firedInState()).toEqual([["after the failure"]]);
  // The failed ones fired once and are gone: a restart has no alarm left to wake anything.
  await server.close();
  const again = start(registry, { driver });
  await again.ready;
  await sleep(20);
  expect(again.runtime.loaded.size).toBe(0);
  expect(firedFor("failing")).toHaveLength(1);
});

test("schedules survive a restart: the actor is woken without any call", async () => {
  const driver = memoryDriver();
  const first = start(registry, { driver });
  const handle = first.client.timer.getOrCreate("restart");
  await handle.after(60, "survived", 42);
  await first.close();
  expect(firedFor("restart")).toHaveLength(0);

  const second = start(registry, { driver });
  await second.ready;
  // Nobody calls the actor: the stored alarm wakes it.
  await waitFor(() => firedFor("restart").length === 1, { what: "the schedule after a restart" });
  expect(firedFor("restart")[0]!.args).toEqual(["survived", 42]);
  expect(second.runtime.loaded.size).toBe(1);
  expect(await second.client.timer.get("restart").firedInState()).toEqual([["survived", 42]]);
  await second.close();

  // Fired once: a third server does not fire it again.
  const third = start(registry, { driver });
  await third.ready;
  await sleep(30);
  expect(firedFor("restart")).toHaveLength(1);
  expect(third.runtime.loaded.size).toBe(0);
});

test("an alarm missed while the server was down fires once at start", async () => {
  const driver = memoryDriver();
  const first = start(registry, { driver });
  await first.client.timer.getOrCreate("missed").after(10, "late");
  await first.client.timer.getOrCreate("missed").after(15, "later");
  await first.close();
  await sleep(40); // the server is "down" past both alarms
  expect(firedFor("missed")).toHaveLength(0);

  const second = start(registry, { driver });
  await waitFor(() => firedFor("missed").length === 2, { what: "the missed schedules" });
  await sleep(30);
  expect(firedFor("missed").map((f) => f.args[0])).toEqual(["late", "later"]);
  expect(await second.client.timer.get("missed").firedInState()).toEqual([["late"], ["later"]]);
});

test("a sleeping actor is woken by its schedule", async () => {
  const napper = actor({
    state: { rang: 0 },
    options: { sleepAfterMs: 20 },
    actions: {
      later: (c, ms: number) => void c.schedule.after(ms, "ring"),
      ring: (c) => {
        c.state.rang++;
        fired.push({ key: "napper", args: [], at: Date.now() });
      },
      rang: (c) => c.state.rang,
    },
  });
  const server = start(setup({ use: { napper } }));
  const handle = server.client.napper.getOrCreate("n");
  const id = await handle.resolve();
  await handle.later(150);
  await waitFor(() => !server.runtime.loaded.has(id), { what: "the actor to sleep" });
  expect(firedFor("napper")).toHaveLength(0);
  await waitFor(() => firedFor("napper").length === 1, { what: "the schedule to wake the actor" });
  expect(await handle.rang()).toBe(1);
});

/**
 * Issue 12 (item 14): auth on a live socket. `conn.setParams(params)` (a token refresh)
 * re-runs onAuth on the open channel — no reconnect, `c.conn.auth` changes in place — and a
 * refusal closes that channel with the error; `server.revoke(filter)` closes the matching
 * channels (by actor, key, identity) with `unauthorized`.
 */
import { beforeEach, describe, expect, test } from "vitest";
import { actor, setup, Unauthorized } from "tandem";
import { type ClientStorage, memoryStorage } from "tandem/client";
import { memoryDriver } from "tandem/server";
import { Kind } from "../shared/protocol/index.ts";
import { rejection, waitFor, within } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { FakeLocks, FakeTab } from "./support/tabs.ts";

const tokens: Record<string, { userId: string; exp: number }> = {
  "ada-1": { userId: "ada", exp: 1 },
  "ada-2": { userId: "ada", exp: 2 },
  "bob-1": { userId: "bob", exp: 1 },
};
const seen = { auth: [] as string[][], connects: 0, disconnects: [] as string[], runs: 0 };

const room = actor({
  state: { n: 0 },
  onAuth: ({ params, intents }) => {
    seen.auth.push([...intents].sort());
    const auth = tokens[String((params as { token?: unknown }).token)];
    if (auth === undefined) throw new Unauthorized("bad token");
    return auth;
  },
  // the identity survives a token refresh: exactly-once records and presence stay the user's
  identity: (auth: { userId: string }) => ({ id: auth.userId }),
  onConnect: () => {
    seen.connects++;
  },
  onDisconnect: (_c, conn) => {
    seen.disconnects.push(conn.auth.userId);
  },
  actions: {
    whoami: (c) => c.conn.auth as { userId: string; exp: number },
    inc: (c) => {
      seen.runs++;
      return ++c.state.n;
    },
  },
});
/** Its identity hook throws for bob: user code failing inside a re-auth must close that channel only. */
const picky = actor({
  state: {},
  onAuth: ({ params }) => tokens[String((params as { token?: unknown }).token)] ?? null,
  identity: (auth: { userId: string } | null) => {
    if (auth?.userId === "bob") throw new Error("identity hook failed");
    return { id: auth?.userId };
  },
  actions: { ping: () => "pong" },
});
const registry = setup({ use: { room, picky } });
type R = typeof registry;

const net = useNetwork();

beforeEach(() => {
  seen.auth.length = 0;
  seen.connects = 0;
  seen.disconnects.length = 0;
  seen.runs = 0;
});

describe("conn.setParams: new params on a live connection", () => {
  test("accepted: onAuth runs again with intent connect, c.conn.auth changes, no reconnect", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const client = net.client<R>(server.url);
    const conn = client.room.getOrCreate("r", { params: { token: "ada-1" } }).connect();
    await conn.whenSynced();
    expect(await conn.whoami()).toEqual({ userId: "ada", exp: 1 });
    seen.auth.length = 0;
    await conn.setParams({ token: "ada-2" });
    expect(seen.auth).toEqual([["connect"]]);
    expect(await conn.whoami()).toEqual({ userId: "ada", exp: 2 });
    expect(conn.status).toBe("synced");
    expect(seen.connects).toBe(1); // the same channel: no resubscribe
    expect(seen.disconnects).toEqual([]);
  });

  test("refused: the promise rejects, the connection closes with the error, others on the socket keep going", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const client = net.client<R>(server.url);
    const conn = client.room.getOrCreate("r", { params: { token: "ada-1" } }).connect();
    const other = client.room.getOrCreate("other", { params: { token: "bob-1" } }).connect();
    await Promise.all([conn.whenSynced(), other.whenSynced()]);
    expect(await rejection(conn.setParams({ token: "forged" }))).toMatchObject({ code: "unauthorized" });
    await waitFor(() => seen.disconnects.includes("ada"), { what: "onDisconnect of the refused connection" });
    expect(await rejection(within(conn.whoami(), 2000, "refused call"))).toMatchObject({ code: "unauthorized" });
    expect(await other.whoami()).toEqual({ userId: "bob", exp: 1 });
  });

  test("offline, the new params wait for the next subscribe", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const client = net.client<R>(server.url);
    const conn = client.room.getOrCreate("r", { params: { token: "ada-1" } }).connect();
    await conn.setParams({ token: "ada-2" }); // before it ever subscribed
    await conn.whenSynced();
    expect(await conn.whoami()).toEqual({ userId: "ada", exp: 2 });
  });

  test("in a follower tab: the new params reach the server through the leader tab", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const storage: ClientStorage = { ...memoryStorage(), shared: `live-auth-${process.pid}` };
    const locks = new FakeLocks();
    const tabs = [new FakeTab("leader", locks), new FakeTab("follower", locks)];
    const conns = [];
    for (const tab of tabs) {
      const client = net.client<R>(server.url, { storage, multiTab: tab.multiTab, socketFactory: tab.socketFactory });
      await client.ready;
      const conn = client.room.getOrCreate("r", { params: { token: "ada-1" } }).connect();
      await conn.whenSynced();
      conns.push(conn);
    }
    const follower = conns[1]!;
    expect(await follower.whoami()).toEqual({ userId: "ada", exp: 1 });
    await follower.setParams({ token: "ada-2" });
    expect(await follower.whoami()).toEqual({ userId: "ada", exp: 2 });
    expect(await conns[0]!.whoami()).toEqual({ userId: "ada", exp: 1 }); // the leader's own connection keeps its params
    expect(await rejection(follower.setParams({ token: "forged" }))).toMatchObject({ code: "unauthorized" });
  });

  test("raw frames: an auth frame keeps the exactly-once identity (a resend after a refresh is answered from the record)", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const socket = await net.raw(server.url);
    await socket.hello("browser-1");
    await socket.subscribe(1, "room", ["r"], { params: { token: "ada-1" } });
    expect(await socket.action(1, 1, "inc", [], 5)).toMatchObject({ ok: true, result: 1 });
    socket.send({ kind: Kind.auth, channel: 1, id: 1, params: { token: "ada-2" } });
    expect(await socket.next(Kind.authResult, (m) => m.id === 1)).toMatchObject({ ok: true });
    expect(await socket.action(1, 2, "inc", [], 5)).toMatchObject({ ok: true, result: 1 });
    expect(seen.runs).toBe(1);
    socket.send({ kind: Kind.auth, channel: 9, id: 2, params: {} });
    expect((await socket.nextError(9)).error.code).toBe("unknown_channel");
    socket.send({ kind: Kind.auth, channel: 1, id: 3, params: { token: "nope" } });
    expect(await socket.next(Kind.authResult, (m) => m.id === 3)).toMatchObject({ ok: false, error: { code: "unauthorized" } });
    expect(await socket.next(Kind.unsubscribed, (m) => m.channel === 1)).toMatchObject({ error: { code: "unauthorized" }, retry: false });
  });
  test("a throwing identity hook during re-auth closes that channel with internal_error; the server keeps serving", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const socket = await net.raw(server.url);
    await socket.hello("browser-2");
    await socket.subscribe(1, "picky", ["p"], { params: { token: "ada-1" } });
    socket.send({ kind: Kind.auth, channel: 1, id: 1, params: { token: "bob-1" } });
    expect(await socket.next(Kind.authResult, (m) => m.id === 1)).toMatchObject({ ok: false, error: { code: "internal_error" } });
    expect(await socket.next(Kind.unsubscribed, (m) => m.channel === 1)).toMatchObject({ retry: false });
    await socket.subscribe(2, "picky", ["p"], { params: { token: "ada-2" } });
    expect(await socket.action(2, 1, "ping", [])).toMatchObject({ ok: true, result: "pong" });
  });
});

describe("server.revoke", () => {
  test("by identity: the matching connections close with unauthorized, onDisconnect runs, the rest keep going", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const ada = net.client<R>(server.url).room.getOrCreate("r", { params: { token: "ada-1" } }).connect();
    const bobClient = net.client<R>(server.url);
    const bob = bobClient.room.getOrCreate("r", { params: { token: "bob-1" } }).connect();
    const bobElsewhere = bobClient.room.getOrCreate("s", { params: { token: "bob-1" } }).connect();
    await Promise.all([ada.whenSynced(), bob.whenSynced(), bobElsewhere.whenSynced()]);
    const errors: string[] = [];
    bob.onError((error) => errors.push(error.code));
    expect(server.revoke({ where: (auth) => (auth as { userId: string }).userId === "bob" })).toBe(2);
    await waitFor(() => seen.disconnects.filter((who) => who === "bob").length === 2, { what: "bob's onDisconnect" });
    expect(await rejection(within(bob.inc(), 2000, "revoked call"))).toMatchObject({ code: "unauthorized" });
    expect(errors).toContain("unauthorized");
    expect(await ada.inc()).toBe(1);
    expect(ada.status).toBe("synced");
  });

  test("by actor and key: only that actor's connections close; a filter is required", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const client = net.client<R>(server.url);
    const r = client.room.getOrCreate("r", { params: { token: "ada-1" } }).connect();
    const s = client.room.getOrCreate("s", { params: { token: "ada-1" } }).connect();
    await Promise.all([r.whenSynced(), s.whenSynced()]);
    expect(server.revoke({ actor: "room", key: "s" })).toBe(1);
    expect(await rejection(within(s.whoami(), 2000, "revoked"))).toMatchObject({ code: "unauthorized" });
    expect(await r.whoami()).toEqual({ userId: "ada", exp: 1 });
    expect(() => server.revoke({})).toThrow(/at least one/);
    expect(server.revoke({ actor: "nothing-like-it" })).toBe(0);
  });
});

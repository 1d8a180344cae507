/**
 * Bad input, class by class: each gets a clear error frame or HTTP error, changes nothing,
 * and the server goes on serving a good client, on the same socket and on others.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { z } from "zod";
import { actor, setup } from "tandem";
import type { ServerLogger } from "tandem/server";
import { rejection, sleep, waitFor, within } from "./seed-helpers.ts";
import { CloseCode, Kind, PROTOCOL_VERSION, encodeUp } from "../shared/protocol/index.ts";
import { useNetwork, type NetworkServerOptions, type RawSocket } from "./support/raw-socket.ts";

const hooks = { connects: 0, starts: 0 };

const notes = actor({
  state: { items: [] as string[], text: new Y.Text(""), map: {} as Record<string, number> },
  onStart: () => {
    hooks.starts++;
  },
  onConnect: () => {
    hooks.connects++;
  },
  canEdit: () => true,
  schemas: {
    add: z.tuple([z.string().max(50)]),
    setKey: z.tuple([z.string(), z.number().int()]),
  },
  actions: {
    add: (c, item: string) => {
      c.state.items.push(item);
      return c.state.items.length;
    },
    setKey: (c, key: string, value: number) => {
      c.state.map[key] = value;
      return Object.keys(c.state.map).length;
    },
    put: (c, key: string, value: unknown) => {
      c.state.map[key] = value as number;
      return true;
    },
    inspect: (_c, value: Record<string, unknown>) => ({
      keys: Object.keys(value),
      ownProto: Object.hasOwn(value, "__proto__"),
      polluted: ({} as Record<string, unknown>).polluted !== undefined,
    }),
    read: (c) => ({ items: [...c.state.items], text: c.state.text.toString(), map: { ...c.state.map } }),
    liveConns: (c) => c.conns.size,
  },
});

const registry = setup({ use: { notes } });
type R = typeof registry;

const net = useNetwork();

/**
 * A server with a good library client on its own socket and a raw socket subscribed to the
 * same actor on channel 1; `healthy()` checks both still work and the state is only theirs.
 */
async function scenario(options: NetworkServerOptions = {}) {
  // Every refusal here is on purpose: none may be logged as an internal error.
  const internal: string[] = [];
  const noop = () => {};
  const logger: ServerLogger = { debug: noop, info: noop, warn: noop, error: (obj, msg) => internal.push(`${msg}: ${String((obj as { err?: unknown })?.err ?? obj)}`), child: () => logger };
  const server = await net.server(registry, { logger, ...options });
  const client = net.client<R>(server.url);
  const conn = client.notes.getOrCreate("k").connect();
  await conn.whenSynced();
  const raw = await net.raw(server.url);
  await raw.hello();
  const { step2 } = await raw.subscribe(1, "notes", "k");
  const expected: string[] = [];
  let n = 0;
  let nextId = 1000;
  const read = () => server.client.notes.get("k").read();
  return {
    server,
    client,
    conn,
    raw,
    step2,
    read,
    /** Both the raw socket (same socket as the bad frames) and the client still get acks. */
    async healthy(socket: RawSocket = raw, channel = 1) {
      n++;
      const ack = await socket.action(channel, nextId++, "add", [`raw-${n}`]);
      expect(ack).toMatchObject({ ok: true, result: expected.length + 1 });
      expected.push(`raw-${n}`);
      expect(await within(conn.add(`client-${n}`), 2000, "the good client's action")).toBe(expected.length + 1);
      expected.push(`client-${n}`);
      expect((await read()).items).toEqual(expected);
      await waitFor(() => conn.state?.items.length === expected.length, { what: "the good replica" });
      expect(socket.isOpen).toBe(true);
      expect(conn.status).toBe("synced");
      expect(internal, "internal errors logged").toEqual([]);
    },
    expected,
  };
}

async function post(url: string, path: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string; group: string; metadata?: unknown }; result?: unknown } };
}

describe("frames that do not decode", () => {
  test("malformed bytes, text frames and unknown kinds get malformed_frame on channel 0", async () => {
    const s = await scenario();
    const garbage = [new Uint8Array([]), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), new Uint8Array([Kind.action]), new Uint8Array([99, 1, 2, 3]), new Uint8Array([Kind.ack, 1, 1])];
    for (const bytes of garbage) {
      s.raw.sendBytes(bytes);
      const error = await s.raw.nextError(0);
      expect(error.error).toMatchObject({ code: "malformed_frame", group: "client" });
    }
    s.raw.ws.send("hello as text");
    expect((await s.raw.nextError(0)).error.code).toBe("malformed_frame");
    // A valid frame with trailing bytes is malformed too; its caller is answered (an ack that
    // fails), so it does not wait for ever.
    const action = encodeUp({ kind: Kind.action, channel: 1, id: 1, name: "add", args: ["sneaky"], seq: 0 });
    s.raw.sendBytes(new Uint8Array([...action, 0]));
    expect(await s.raw.nextMatch((m) => m.kind === Kind.ack && m.id === 1)).toMatchObject({ ok: false, error: { code: "malformed_frame" } });
    // Truncated.
    const truncated = encodeUp({ kind: Kind.action, channel: 1, id: 2, name: "add", args: ["sneaky"], seq: 0 });
    s.raw.sendBytes(truncated.subarray(0, truncated.length - 3));
    expect(await s.raw.nextMatch((m) => m.kind === Kind.ack && m.id === 2)).toMatchObject({ ok: false, error: { code: "malformed_frame" } });
    await s.healthy();
    expect(s.raw.all(Kind.ack).filter((a) => (a.id === 1 || a.id === 2) && a.ok)).toEqual([]);
  });

  test("a frame before hello is refused, then hello works; a second hello is refused", async () => {
    const s = await scenario();
    const fresh = await net.raw(s.server.url);
    fresh.send({ kind: Kind.subscribe, channel: 1, name: "notes", target: { by: "key", mode: "getOrCreate", key: ["k"] }, params: undefined, stateVector: new Uint8Array() });
    expect((await fresh.nextError()).error).toMatchObject({ code: "malformed_frame", message: expect.stringContaining("hello") });
    fresh.send({ kind: Kind.action, channel: 1, id: 1, name: "add", args: ["before hello"], seq: 0 });
    expect((await fresh.nextError()).error.code).toBe("malformed_frame");
    expect(fresh.all(Kind.subscribed)).toEqual([]);
    const welcome = await fresh.hello("fresh-client");
    expect(welcome).toMatchObject({ version: PROTOCOL_VERSION, clientId: "fresh-client" });
    fresh.send({ kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId: "again" });
    expect((await fresh.nextError(0)).error.code).toBe("malformed_frame");
    // An empty or oversized client id is refused.
    const other = await net.raw(s.server.url);
    other.send({ kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId: "" });
    expect((await other.nextError(0)).error.code).toBe("malformed_frame");
    other.send({ kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId: "x".repeat(129) });
    expect((await other.nextError(0)).error.code).toBe("malformed_frame");
    await fresh.subscribe(1, "notes", "k");
    await s.healthy(fresh, 1);
    await s.healthy();
  });

  test("a hello with protocol version 0 gets upgrade_required and close code 4426", async () => {
    const s = await scenario();
    const old = await net.raw(s.server.url);
    old.send({ kind: Kind.hello, channel: 0, version: 0, clientId: "old-client" });
    const error = await old.nextError(0);
    expect(error.error).toMatchObject({ code: "upgrade_required", group: "client" });
    expect(error.error.message).toMatch(/too old/);
    const closed = await within(old.closed, 2000, "the close");
    expect(closed.code).toBe(CloseCode.upgradeRequired);
    expect(closed.code).toBe(4426);
    expect(old.all(Kind.welcome)).toEqual([]);
    await s.healthy();
  });

  test("frames pipelined after a hello are handled in order; after a refused hello, never", async () => {
    const s = await scenario();
    const subscribe = (socket: RawSocket, key: string) =>
      socket.send({ kind: Kind.subscribe, channel: 1, name: "notes", target: { by: "key", mode: "getOrCreate", key: [key] }, params: undefined, stateVector: new Uint8Array() });
    // As the library client does: hello, subscribe and an action in one go, no wait for welcome.
    const eager = await net.raw(s.server.url);
    eager.send({ kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId: "eager-client" });
    subscribe(eager, "pipelined");
    eager.send({ kind: Kind.action, channel: 1, id: 1, name: "add", args: ["first"], seq: 0 });
    await eager.next(Kind.welcome);
    await eager.next(Kind.subscribed, (m) => m.channel === 1);
    expect(await eager.next(Kind.ack, (m) => m.id === 1)).toMatchObject({ ok: true, result: 1 });
    // A refused hello: what follows it is not handled (no actor created, no action run).
    const startsBefore = hooks.starts;
    const old = await net.raw(s.server.url);
    old.send({ kind: Kind.hello, channel: 0, version: 0, clientId: "old-client" });
    subscribe(old, "never");
    old.send({ kind: Kind.action, channel: 1, id: 1, name: "add", args: ["never"], seq: 0 });
    expect((await old.nextError(0)).error.code).toBe("upgrade_required");
    await within(old.closed, 2000, "the close");
    expect(old.all(Kind.subscribed)).toEqual([]);
    expect(old.all(Kind.ack)).toEqual([]);
    expect(hooks.starts).toBe(startsBefore);
    await expect(s.server.client.notes.get("never").read()).rejects.toMatchObject({ code: "actor_not_found" });
    await s.healthy();
  });
});

describe("size limits", () => {
  test("an oversized frame gets message_too_large (maxFrameBytes: 1024)", async () => {
    const s = await scenario({ limits: { maxFrameBytes: 1024 } });
    s.raw.send({ kind: Kind.action, channel: 1, id: 1, name: "add", args: ["x".repeat(1500)], seq: 0 });
    // The frame is not decoded, but its header names the action: its caller gets an answer.
    const ack = await s.raw.next(Kind.ack, (a) => a.id === 1);
    expect(ack).toMatchObject({ ok: false, error: { code: "message_too_large", group: "client" } });
    await s.healthy();
  });

  test("a frame over the hard limit (4 × maxFrameBytes) ends only its socket, and is not a server error", async () => {
    const s = await scenario({ limits: { maxFrameBytes: 1024 } });
    const huge = await net.raw(s.server.url);
    await huge.hello();
    huge.sendBytes(new Uint8Array(1024 * 5));
    const closed = await within(huge.closed, 2000, "the close");
    expect(closed.code).toBe(1009);
    await s.healthy(); // also: nothing was logged at error level for a client's oversized frame
  });

  test("an action too large for the frame limit settles its promise", async () => {
    const s = await scenario({ limits: { maxFrameBytes: 1024 } });
    const error = await rejection(within(s.conn.add("y".repeat(1500)), 500, "an oversized action"));
    expect(error.code).toBe("message_too_large");
    await s.healthy();
  });

  test("an oversized HTTP body gets 413 message_too_large", async () => {
    const s = await scenario({ limits: { maxFrameBytes: 1024 } });
    const response = await post(s.server.url, "/actors/notes/actions/add", JSON.stringify({ key: "k", args: ["z".repeat(2000)] }));
    expect(response.status).toBe(413);
    expect(response.body.error).toMatchObject({ code: "message_too_large" });
    expect(await rejection(s.client.notes.get("k").add("w".repeat(2000)))).toMatchObject({ code: "message_too_large" });
    await s.healthy();
  });
});

describe("unknown names", () => {
  test("an unknown actor kind: unsubscribed actor_not_found over WS, 404 over HTTP", async () => {
    const s = await scenario();
    const refused = await rejection(s.raw.subscribe(2, "nope", "k"));
    expect(refused.wire).toMatchObject({ code: "actor_not_found" });
    for (const path of ["/actors/nope/actions/add", "/actors/nope/resolve", "/actors/__proto__/actions/add", "/actors/constructor/resolve"]) {
      const response = await post(s.server.url, path, JSON.stringify({ key: "k", mode: "getOrCreate", args: [] }));
      expect(response.status, path).toBe(404);
      expect(response.body.error?.code, path).toBe("actor_not_found");
    }
    // The typed client cannot name it, an untyped one can.
    const untyped = s.client as unknown as Record<string, { getOrCreate(key: string): { add(x: string): Promise<unknown> } }>;
    expect(await rejection(untyped.nope!.getOrCreate("k").add("x"))).toMatchObject({ code: "actor_not_found" });
    await s.healthy();
  });

  test("an unknown action: action_not_found over WS and HTTP 404", async () => {
    const s = await scenario();
    for (const name of ["nope", "__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const ack = await s.raw.action(1, 10, name, []);
      expect(ack.ok, name).toBe(false);
      if (!ack.ok) expect(ack.error.code, name).toBe("action_not_found");
      const response = await post(s.server.url, `/actors/notes/actions/${name}`, JSON.stringify({ key: "k", args: [] }));
      expect(response.status, name).toBe(404);
      expect(response.body.error?.code, name).toBe("action_not_found");
    }
    const untyped = s.conn as unknown as { nope(): Promise<unknown> };
    expect(await rejection(untyped.nope())).toMatchObject({ code: "action_not_found" });
    await s.healthy();
  });
});

describe("arguments", () => {
  test("wrong argument types with a zod schema: invalid_arguments (WS and HTTP 400)", async () => {
    const s = await scenario();
    for (const args of [[42], [], ["a".repeat(51)], [null], [{ text: "x" }]]) {
      const ack = await s.raw.action(1, 20, "add", args);
      expect(ack.ok, JSON.stringify(args)).toBe(false);
      if (!ack.ok) expect(ack.error.code).toBe("invalid_arguments");
    }
    const ack = await s.raw.action(1, 21, "setKey", ["a", 1.5]);
    expect(ack.ok === false && ack.error).toMatchObject({ code: "invalid_arguments", metadata: { issues: [expect.objectContaining({ path: ["1"] })] } });
    const response = await post(s.server.url, "/actors/notes/actions/add", JSON.stringify({ key: "k", args: [42] }));
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "invalid_arguments", group: "client" });
    const notArray = await post(s.server.url, "/actors/notes/actions/add", JSON.stringify({ key: "k", args: "x" }));
    expect(notArray.status).toBe(400);
    expect(notArray.body.error?.code).toBe("invalid_arguments");
    const notJson = await post(s.server.url, "/actors/notes/actions/add", "{not json");
    expect(notJson.status).toBe(400);
    const badKey = await post(s.server.url, "/actors/notes/actions/add", JSON.stringify({ key: [1, 2], args: ["x"] }));
    expect(badKey.status).toBe(400);
    expect(badKey.body.error?.code).toBe("invalid_arguments");
    const badParams = await post(s.server.url, "/actors/notes/actions/add", JSON.stringify({ key: "k", args: ["x"] }), { "x-tandem-params": "{nope" });
    expect(badParams.status).toBe(400);
    // Through the typed client (cast: the types would not allow it).
    const loose = s.conn as unknown as { add(x: unknown): Promise<unknown> };
    expect(await rejection(loose.add(42))).toMatchObject({ code: "invalid_arguments" });
    expect(await rejection((s.client.notes.get("k") as unknown as { add(x: unknown): Promise<unknown> }).add(42))).toMatchObject({ code: "invalid_arguments" });
    await s.healthy();
  });

  test("a __proto__ key in a raw frame's arguments is malformed and reaches no action", async () => {
    const s = await scenario();
    const poisoned = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
    s.raw.send({ kind: Kind.action, channel: 1, id: 30, name: "inspect", args: [poisoned], seq: 0 });
    // Refused undecoded; its caller is answered with a failed ack.
    const ack = await s.raw.nextMatch((m) => m.kind === Kind.ack && m.id === 30);
    expect(ack).toMatchObject({ ok: false, error: { code: "malformed_frame" } });
    expect(JSON.stringify(ack)).toContain("__proto__");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // In params of a subscribe too: the channel is refused.
    s.raw.send({ kind: Kind.subscribe, channel: 3, name: "notes", target: { by: "key", mode: "getOrCreate", key: ["k"] }, params: poisoned, stateVector: new Uint8Array() });
    expect(await s.raw.nextMatch((m) => m.kind === Kind.unsubscribed && m.channel === 3)).toMatchObject({ retry: false, error: { code: "malformed_frame" } });
    await s.healthy();
    expect(s.raw.all(Kind.ack).filter((a) => a.id === 30 && a.ok)).toEqual([]);
  });

  test("a __proto__ key in HTTP JSON is refused with 400 and pollutes nothing", async () => {
    const s = await scenario();
    const response = await post(s.server.url, "/actors/notes/actions/inspect", '{"key":"k","args":[{"__proto__":{"polluted":true},"ok":1}]}');
    expect(response.status).toBe(400);
    expect(response.body.error?.code).toBe("invalid_arguments");
    const constructor = await post(s.server.url, "/actors/notes/actions/inspect", '{"key":"k","args":[{"constructor":{"prototype":{"polluted":true}}}]}');
    expect(constructor.status).toBe(400);
    const header = await post(s.server.url, "/actors/notes/actions/read", '{"key":"k"}', { "x-tandem-params": '{"__proto__":{"polluted":true}}' });
    expect(header.status).toBeLessThan(500);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await s.healthy();
  });

  test("a __proto__ state key written by an action is refused and changes nothing", async () => {
    const s = await scenario();
    const ack = await s.raw.action(1, 40, "put", ["__proto__", 1]);
    expect(ack.ok).toBe(false);
    if (!ack.ok) expect(ack.error.code).toBe("invalid_state");
    const response = await post(s.server.url, "/actors/notes/actions/setKey", JSON.stringify({ key: "k", args: ["__proto__", 1] }));
    expect(response.status).toBe(400);
    expect((await s.read()).map).toEqual({});
    await s.healthy();
  });
});

describe("channels", () => {
  test("frames on a channel that is not open get unknown_channel on that channel", async () => {
    const s = await scenario();
    s.raw.send({ kind: Kind.action, channel: 9, id: 1, name: "add", args: ["lost"], seq: 0 });
    expect((await s.raw.nextError(9)).error).toMatchObject({ code: "unknown_channel", group: "client" });
    s.raw.send({ kind: Kind.edit, channel: 9, id: 1, update: new Uint8Array([0, 0]) });
    expect((await s.raw.nextError(9)).error.code).toBe("unknown_channel");
    s.raw.send({ kind: Kind.sync, channel: 9, step: "step1", data: new Uint8Array([0]) });
    expect((await s.raw.nextError(9)).error.code).toBe("unknown_channel");
    s.raw.send({ kind: Kind.unsubscribe, channel: 9 });
    expect((await s.raw.nextError(9)).error.code).toBe("unknown_channel");
    s.raw.send({ kind: Kind.awareness, channel: 9, update: new Uint8Array([0]) });
    expect((await s.raw.nextError(9)).error.code).toBe("unknown_channel");
    // Channel 0 cannot be subscribed, and an open channel cannot be opened again.
    s.raw.send({ kind: Kind.subscribe, channel: 0, name: "notes", target: { by: "key", mode: "getOrCreate", key: ["k"] }, params: undefined, stateVector: new Uint8Array() });
    expect((await s.raw.nextError(0)).error.code).toBe("malformed_frame");
    s.raw.send({ kind: Kind.subscribe, channel: 1, name: "notes", target: { by: "key", mode: "getOrCreate", key: ["k"] }, params: undefined, stateVector: new Uint8Array() });
    expect((await s.raw.nextError(1)).error.code).toBe("malformed_frame");
    // After unsubscribe, the channel is gone.
    await s.raw.subscribe(5, "notes", "k");
    s.raw.send({ kind: Kind.unsubscribe, channel: 5 });
    await sleep(10);
    s.raw.send({ kind: Kind.action, channel: 5, id: 2, name: "add", args: ["late"], seq: 0 });
    expect((await s.raw.nextError(5)).error.code).toBe("unknown_channel");
    await s.healthy();
    expect((await s.read()).items).not.toContain("lost");
    expect((await s.read()).items).not.toContain("late");
  });

  test("too many channels on one socket (maxChannelsPerSocket: 2) are refused", async () => {
    const s = await scenario({ limits: { maxChannelsPerSocket: 2 } });
    await s.raw.subscribe(2, "notes", "other");
    s.raw.send({ kind: Kind.subscribe, channel: 3, name: "notes", target: { by: "key", mode: "getOrCreate", key: ["third"] }, params: undefined, stateVector: new Uint8Array() });
    const refusal = await s.raw.nextMatch((m) => m.channel === 3 && (m.kind === Kind.error || m.kind === Kind.unsubscribed));
    expect(refusal.kind === Kind.error || refusal.kind === Kind.unsubscribed ? refusal.error.code : null).toBe("rate_limited");
    expect(s.raw.all(Kind.subscribed, 3)).toEqual([]);
    // Closing one makes room again.
    s.raw.send({ kind: Kind.unsubscribe, channel: 2 });
    await sleep(10);
    await s.raw.subscribe(4, "notes", "third");
    await s.healthy();
  });

  test("a library connection over the channel limit is told so: whenSynced rejects", async () => {
    const server = await net.server(registry, { limits: { maxChannelsPerSocket: 2 } });
    const client = net.client<R>(server.url);
    const a = client.notes.getOrCreate("a").connect();
    const b = client.notes.getOrCreate("b").connect();
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const c = client.notes.getOrCreate("c").connect();
    const errors: string[] = [];
    c.onError((e) => errors.push(e.code));
    const error = await rejection(within(c.whenSynced(), 500, "whenSynced of the connection over the limit"));
    expect(error.code).toBe("rate_limited");
    expect(errors).toContain("rate_limited");
    expect(await a.add("still fine")).toBe(1);
  });
});

describe("rate limit", () => {
  /** Upgraded TCP sockets of a server, to destroy them if a test leaves one held. */
  function trackSockets() {
    const sockets: { destroy(): void }[] = [];
    return {
      beforeListen: (server: { readonly app: { readonly server: import("node:http").Server } }) => {
        server.app.server.on("upgrade", (_request, socket) => sockets.push(socket));
      },
      destroyAll: () => sockets.forEach((socket) => socket.destroy()),
    };
  }

  test("frames over framesPerSecond are delayed, not refused: every action is answered, in order", async () => {
    // 20 frames a second, bursts of 40: 50 frames take about half a second more than a burst.
    const s = await scenario({ limits: { framesPerSecond: 20 } });
    const started = Date.now();
    const count = 50;
    for (let i = 0; i < count; i++) s.raw.send({ kind: Kind.action, channel: 1, id: 100 + i, name: "add", args: [`burst-${i}`], seq: 0 });
    // While the raw socket is held back, the client's own socket is served at once.
    await sleep(50);
    const quick = Date.now();
    expect(await s.conn.add("meanwhile")).toBeGreaterThan(0);
    expect(Date.now() - quick).toBeLessThan(400);
    s.expected.push("meanwhile");
    await waitFor(() => s.raw.all(Kind.ack).filter((a) => a.id >= 100).length === count, { what: "every burst action answered", timeoutMs: 4000 });
    const elapsed = Date.now() - started;
    const acks = s.raw.all(Kind.ack).filter((a) => a.id >= 100);
    expect(acks.map((a) => a.id)).toEqual(Array.from({ length: count }, (_, i) => 100 + i));
    expect(acks.every((a) => a.ok)).toBe(true);
    expect(s.raw.all(Kind.error)).toEqual([]);
    // Over the burst, frames went at the rate: the last ones waited.
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(3000);
    const burst = (await s.read()).items.filter((item) => item.startsWith("burst-"));
    expect(burst).toEqual(Array.from({ length: count }, (_, i) => `burst-${i}`));
    s.expected.length = 0;
    s.expected.push(...(await s.read()).items);
    await s.healthy();
  });

  test("library actions over the rate are delayed, never lost", async () => {
    const server = await net.server(registry, { limits: { framesPerSecond: 20 } });
    const client = net.client<R>(server.url);
    const conn = client.notes.getOrCreate("k").connect();
    await conn.whenSynced();
    const started = Date.now();
    const calls = Array.from({ length: 50 }, (_, i) => conn.add(`call-${i}`));
    const results = await within(Promise.all(calls), 4000, "every action to be answered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await server.client.notes.get("k").read()).items).toEqual(Array.from({ length: 50 }, (_, i) => `call-${i}`));
  });

  test("a flood is slowed to the rate and other sockets are served", async () => {
    const sockets = trackSockets();
    const s = await scenario({ limits: { framesPerSecond: 5 }, beforeListen: sockets.beforeListen });
    try {
      const flood = await net.raw(s.server.url);
      await flood.hello();
      const started = Date.now();
      for (let i = 0; i < 3000; i++) flood.sendBytes(new Uint8Array([Kind.unsubscribe, 77]));
      await sleep(400);
      for (let i = 0; i < 10; i++) expect(await s.conn.add(`during-${i}`)).toBe(i + 1);
      const elapsedS = (Date.now() - started) / 1000;
      const handled = flood.all(Kind.error).length;
      // The bucket: a burst of 2 × 5, then 5 a second (and a little slack for timers).
      expect(handled).toBeLessThanOrEqual(10 + Math.ceil(elapsedS * 5) + 2);
      expect(handled).toBeGreaterThan(0);
      if (flood.closeInfo !== null) {
        // If the server gave up on the flood, it said why.
        expect(flood.closeInfo.code).toBe(CloseCode.rateLimited);
      }
    } finally {
      sockets.destroyAll();
    }
  });

  test("the server closes promptly while a socket is held back by the rate limit", async () => {
    const sockets = trackSockets();
    const server = await net.server(registry, { limits: { framesPerSecond: 5 }, beforeListen: sockets.beforeListen });
    const flood = await net.raw(server.url);
    await flood.hello();
    for (let i = 0; i < 100; i++) flood.sendBytes(new Uint8Array([Kind.unsubscribe, 77]));
    await sleep(100);
    try {
      await within(net.closeServer(server), 1000, "server.close() with a held socket");
      expect((await within(flood.closed, 1000, "the held socket's close")).code).toBe(CloseCode.goingAway);
    } finally {
      sockets.destroyAll();
    }
  });
});

describe("document content outside edits", () => {
  test("sync step 2 and update frames from a client are refused and change nothing", async () => {
    const s = await scenario();
    const doc = new Y.Doc();
    Y.applyUpdate(doc, s.step2.data);
    const before = Y.encodeStateVector(doc);
    (doc.getMap("state").get("items") as Y.Array<string>).push(["smuggled"]);
    const update = Y.encodeStateAsUpdate(doc, before);
    for (const step of ["step2", "update"] as const) {
      s.raw.send({ kind: Kind.sync, channel: 1, step, data: update });
      expect((await s.raw.nextError(1)).error.code).toBe("malformed_frame");
    }
    // Step 1 is fine: the server answers with what the client lacks (nothing).
    s.raw.send({ kind: Kind.sync, channel: 1, step: "step1", data: Y.encodeStateVector(new Y.Doc()) });
    const answer = await s.raw.next(Kind.sync, (m) => m.channel === 1 && m.step === "step2");
    const check = new Y.Doc();
    Y.applyUpdate(check, answer.data);
    expect((check.getMap("state").get("items") as Y.Array<string>).toArray()).toEqual([]);
    // A malformed state vector in step 1 gets an error.
    s.raw.send({ kind: Kind.sync, channel: 1, step: "step1", data: new Uint8Array([5, 200, 200]) });
    expect((await s.raw.nextError(1)).error.code).toBe("malformed_frame");
    expect((await s.read()).items).toEqual([]);
    await s.healthy();
    expect((await s.read()).items).not.toContain("smuggled");
  });

  test("a subscribe with a malformed state vector is refused as malformed and leaves no connection behind", async () => {
    hooks.connects = 0;
    const s = await scenario();
    const before = await s.conn.liveConns();
    s.raw.send({ kind: Kind.subscribe, channel: 7, name: "notes", target: { by: "key", mode: "getOrCreate", key: ["k"] }, params: undefined, stateVector: new Uint8Array([5, 200, 200]) });
    const refusal = await s.raw.nextMatch((m) => m.channel === 7 && (m.kind === Kind.unsubscribed || m.kind === Kind.error));
    const code = refusal.kind === Kind.unsubscribed || refusal.kind === Kind.error ? refusal.error.code : null;
    expect({ code, subscribed: s.raw.all(Kind.subscribed, 7).length }).toEqual({ code: "malformed_frame", subscribed: 0 });
    // The refused channel holds no connection of the actor and gets nothing later.
    expect(await s.conn.liveConns()).toBe(before);
    await s.healthy();
    expect(s.raw.received.filter((m) => m.channel === 7 && m.kind !== Kind.unsubscribed && m.kind !== Kind.error)).toEqual([]);
  });

  test("malformed Yjs updates in edit frames are rejected and change nothing", async () => {
    hooks.connects = 0;
    hooks.starts = 0;
    const s = await scenario();
    const doc = new Y.Doc();
    Y.applyUpdate(doc, s.step2.data);
    const cases: [string, Uint8Array][] = [];
    cases.push(["garbage", new Uint8Array([1, 2, 3, 255, 255])]);
    cases.push(["empty", new Uint8Array([])]);
    // Writing outside the state root.
    const outside = new Y.Doc();
    Y.applyUpdate(outside, s.step2.data);
    const sv = Y.encodeStateVector(outside);
    outside.getMap("elsewhere").set("x", 1);
    cases.push(["outside the state", Y.encodeStateAsUpdate(outside, sv)]);
    // A __proto__ key in the state map.
    const proto = new Y.Doc();
    Y.applyUpdate(proto, s.step2.data);
    const sv2 = Y.encodeStateVector(proto);
    proto.getMap("state").set("__proto__", 1);
    cases.push(["__proto__ key", Y.encodeStateAsUpdate(proto, sv2)]);
    // Depends on changes the actor does not have (a gap in this client's clock).
    const gap = new Y.Doc();
    Y.applyUpdate(gap, s.step2.data);
    const text = gap.getMap("state").get("text") as Y.Text;
    text.insert(0, "a");
    const afterFirst = Y.encodeStateVector(gap);
    text.insert(1, "b");
    cases.push(["missing dependency", Y.encodeStateAsUpdate(gap, afterFirst)]);
    let id = 1;
    for (const [what, update] of cases) {
      const result = await s.raw.edit(1, id++, update);
      expect(result.ok, what).toBe(false);
      if (!result.ok) expect(result.error.code, what).toBe("invalid_arguments");
    }
    expect(await s.read()).toEqual({ items: [], text: "", map: {} });
    // Nobody was disconnected: the actor did not restart.
    expect(hooks.connects).toBe(2);
    expect(hooks.starts).toBe(1);
    expect(s.raw.all(Kind.unsubscribed)).toEqual([]);
    await s.healthy();
    // A good edit from the raw socket still works.
    const good = new Y.Doc();
    Y.applyUpdate(good, s.step2.data);
    for (const ack of s.raw.all(Kind.ack)) Y.applyUpdate(good, ack.update);
    const sv3 = Y.encodeStateVector(good);
    (good.getMap("state").get("text") as Y.Text).insert(0, "fine");
    const accepted = await s.raw.edit(1, id++, Y.encodeStateAsUpdate(good, sv3));
    expect(accepted.ok).toBe(true);
    expect((await s.read()).text).toBe("fine");
    await waitFor(() => (s.conn.doc.getMap("state").get("text") as Y.Text).toString() === "fine", { what: "the good edit at the client" });
  });

  test("an edit that only deletes items the actor never had is rejected without restarting the actor", async () => {
    hooks.connects = 0;
    hooks.starts = 0;
    const s = await scenario();
    const ghost = new Y.Doc();
    const ghostText = ghost.getText("t");
    ghostText.insert(0, "boo");
    let deletion: Uint8Array | null = null;
    ghost.on("update", (u: Uint8Array) => (deletion = u));
    ghostText.delete(0, 3);
    const statuses: string[] = [];
    s.conn.onStatus((status) => statuses.push(status));
    s.raw.send({ kind: Kind.edit, channel: 1, id: 1, update: deletion! });
    const answer = await s.raw.nextMatch((m) => m.channel === 1 && (m.kind === Kind.editResult || m.kind === Kind.unsubscribed));
    expect(answer.kind === Kind.editResult ? (answer.ok ? "accepted" : answer.error.code) : `unsubscribed: ${answer.kind === Kind.unsubscribed ? answer.error.code : ""}`).toBe("invalid_arguments");
    // Nobody was disconnected: the actor did not restart.
    expect(statuses).toEqual([]);
    expect(hooks.starts).toBe(1);
    expect(hooks.connects).toBe(2);
    await s.healthy();
  });
});

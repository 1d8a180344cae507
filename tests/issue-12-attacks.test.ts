/**
 * Issue 12, attacks a hostile client can make with well-formed frames that the first round
 * of hardening missed. Each test is a class: every way to reach the same flaw.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import * as encoding from "lib0/encoding";
import * as Y from "yjs";
import { actor, setup } from "tandem";
import { fileDriver } from "tandem/server";
import { DEFAULT_LIMITS } from "../server/network/limits.ts";
import { Kind } from "../shared/protocol/index.ts";
import { sleep, waitFor } from "./seed-helpers.ts";
import { decodeAwarenessUpdate, encodeAwarenessUpdate } from "./support/awareness-wire.ts";
import { useNetwork } from "./support/raw-socket.ts";

const disconnects: string[] = [];
const room = actor({
  state: { n: 0 },
  onAuth: async ({ params }) => {
    await Promise.resolve();
    if ((params as { token?: string } | undefined)?.token !== "ok") throw new Error("bad token");
    return { id: "u" };
  },
  onDisconnect: (_c, conn) => {
    disconnects.push(conn.id);
  },
  actions: { conns: (c) => c.conns.size },
});
const registry = setup({ use: { room } });

const net = useNetwork();

test("a channel number reused while its first subscribe is still failing: the new channel stays the socket's and closes with it", async () => {
  disconnects.length = 0;
  const server = await net.server(registry);
  const watcher = await net.raw(server.url);
  await watcher.hello();
  await watcher.subscribe(1, "room", "r", { params: { token: "ok" } });
  const attacker = await net.raw(server.url);
  await attacker.hello();
  const key = { by: "key" as const, mode: "getOrCreate" as const, key: ["r"] };
  const ROUNDS = 20;
  for (let i = 0; i < ROUNDS; i++) {
    // Refused later (onAuth rejects after an await), unsubscribed at once, the number reused.
    attacker.send({ kind: Kind.subscribe, channel: 10, name: "room", target: key, params: { token: "bad" }, stateVector: new Uint8Array() });
    attacker.send({ kind: Kind.unsubscribe, channel: 10 });
    attacker.send({ kind: Kind.subscribe, channel: 10, name: "room", target: key, params: { token: "ok" }, stateVector: new Uint8Array() });
    await attacker.next(Kind.subscribed, (m) => m.channel === 10);
    // Refused at once (no such actor kind), then the number reused.
    attacker.send({ kind: Kind.subscribe, channel: 11, name: "nope", target: key, params: {}, stateVector: new Uint8Array() });
    await attacker.next(Kind.unsubscribed, (m) => m.channel === 11);
    await attacker.subscribe(11, "room", "r", { params: { token: "ok" } });
    // Accepted, unsubscribed before it is open, the number reused: two connections under one number.
    attacker.send({ kind: Kind.subscribe, channel: 12, name: "room", target: key, params: { token: "ok" }, stateVector: new Uint8Array() });
    attacker.send({ kind: Kind.unsubscribe, channel: 12 });
    attacker.send({ kind: Kind.subscribe, channel: 12, name: "room", target: key, params: { token: "ok" }, stateVector: new Uint8Array() });
    await attacker.next(Kind.subscribed, (m) => m.channel === 12);
    // Every number is the socket's: unsubscribing them works.
    for (const channel of [10, 11, 12]) attacker.send({ kind: Kind.unsubscribe, channel });
    await sleep(5);
  }
  await attacker.close();
  const errors = attacker.all(Kind.error).map((m) => `${m.channel}:${m.error.code}`);
  expect(errors).toEqual([]);
  // Every connection the attacker opened had an id of its own and is gone (onDisconnect ran
  // once for each): only the watcher's is left.
  const opened = attacker.all(Kind.subscribed).map((m) => m.connId);
  expect(new Set(opened).size).toBe(opened.length);
  await waitFor(() => disconnects.length >= opened.length, { timeoutMs: 3000 }).catch(() => {});
  expect([...disconnects].sort()).toEqual([...opened].sort());
  expect(await watcher.action(1, 1, "conns", [])).toMatchObject({ ok: true, result: 1 });
});

const signed = actor({
  state: { n: 0 },
  onAuth: ({ params }) => ({ id: String((params as { user?: string }).user) }),
  actions: { n: (c) => c.state.n },
});
const signedRegistry = setup({ use: { signed } });

test("a socket holds only the identities its open channels speak as: re-auth floods and subscribe churn leave nothing behind (leader fencing shows it)", async () => {
  const server = await net.server(signedRegistry);
  const leader = await net.raw(server.url);
  leader.send({ kind: Kind.hello, channel: 0, version: 4, clientId: "browser", epoch: 5 });
  await leader.next(Kind.welcome);
  await leader.subscribe(1, "signed", "s", { params: { user: "x0" } });
  // Re-authenticated as a new identity again and again (a token refresh flood)...
  const FLOOD = 200;
  for (let i = 1; i <= FLOOD; i++) leader.send({ kind: Kind.auth, channel: 1, id: i, params: { user: `x${i}` } });
  await leader.next(Kind.authResult, (m) => m.id === FLOOD);
  // ...and channels opened as other identities, then closed, under one number.
  for (let i = 0; i < 20; i++) {
    await leader.subscribe(2, "signed", "s", { params: { user: `z${i}` } });
    leader.send({ kind: Kind.unsubscribe, channel: 2 });
  }
  expect(leader.all(Kind.authResult).every((m) => m.ok)).toBe(true);
  // An older tab of the same browser may speak as any identity the leader no longer holds...
  for (const user of ["x0", `x${FLOOD - 1}`, "z0", "z19"]) {
    const older = await net.raw(server.url);
    older.send({ kind: Kind.hello, channel: 0, version: 4, clientId: "browser", epoch: 3 });
    await older.next(Kind.welcome);
    await older.subscribe(1, "signed", "s", { params: { user } });
    expect(older.isOpen).toBe(true);
    await older.close();
  }
  // ...but not as the one it holds now.
  const stale = await net.raw(server.url);
  stale.send({ kind: Kind.hello, channel: 0, version: 4, clientId: "browser", epoch: 3 });
  await stale.next(Kind.welcome);
  stale.send({ kind: Kind.subscribe, channel: 1, name: "signed", target: { by: "key", mode: "getOrCreate", key: ["s"] }, params: { user: `x${FLOOD}` }, stateVector: new Uint8Array() });
  expect((await stale.closed).code).toBe(4409);
  expect(leader.isOpen).toBe(true);
});

const authSeen: unknown[] = [];
const guarded = actor({
  state: { n: 0 },
  onAuth: ({ params }) => {
    authSeen.push(params);
    return { id: "u" };
  },
  actions: { echo: (_c, value: unknown) => value },
});
const guardedRegistry = setup({ use: { guarded } });

test('"__proto__" keys are refused on every path a value takes into the server, HTTP headers too: 400 invalid_arguments, onAuth never runs', async () => {
  const server = await net.server(guardedRegistry);
  const post = async (headers: Record<string, string>, body: unknown) => {
    const response = await fetch(`${server.url}/actors/guarded/actions/echo`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
  };
  const shapes = ['{"__proto__":{"admin":true}}', '{"user":"a","deep":[{"x":{"__proto__":{"admin":true}}}]}', '[{"__proto__":1}]'];
  for (const shape of shapes) {
    authSeen.length = 0;
    const asParams = await post({ "x-tandem-params": shape }, { key: ["k"], mode: "getOrCreate", args: [1] });
    expect(asParams.status, shape).toBe(400);
    expect(asParams.body.error?.code).toBe("invalid_arguments");
    expect(authSeen).toEqual([]);
    const asKey = await post({ "x-tandem-key": shape }, { mode: "getOrCreate", args: [1] });
    expect(asKey.status, shape).toBe(400);
  }
  // The same params without the key pass.
  expect((await post({ "x-tandem-params": '{"user":"a","deep":[{"x":{"admin":true}}]}' }, { key: ["k"], mode: "getOrCreate", args: [1] })).status).toBe(200);
  // Awareness states: refused, nothing relayed; the same state without the key is relayed.
  const sender = await net.raw(server.url);
  await sender.hello();
  await sender.subscribe(1, "guarded", "k");
  const member = await net.raw(server.url);
  await member.hello();
  await member.subscribe(1, "guarded", "k");
  for (const [i, shape] of shapes.slice(0, 2).entries()) {
    sender.send({ kind: Kind.awareness, channel: 1, update: encodeAwarenessUpdate([{ clientId: 77, clock: i + 1, json: shape }]) });
    expect((await sender.nextError(1)).error.code, shape).toBe("invalid_arguments");
  }
  sender.send({ kind: Kind.awareness, channel: 1, update: encodeAwarenessUpdate([{ clientId: 77, clock: 9, json: '{"admin":true}' }]) });
  const relayed = await member.next(Kind.awareness, (m) => m.channel === 1);
  expect(decodeAwarenessUpdate(relayed.update)?.map((e) => e.clientId)).toEqual([77]);
});

const vault = actor({
  state: { n: 0 },
  privateState: { kept: {} as Record<string, unknown> },
  actions: {
    keep: (c, key: string, value: unknown) => {
      c.privateState.kept[String(key)] = value;
      return true;
    },
    keepDate: (c) => {
      c.privateState.kept.date = new Date(0) as unknown;
      return true;
    },
    kept: (c) => c.privateState.kept,
  },
});
const vaultRegistry = setup({ use: { vault } });

test("privateState holds what JSON gives back as it was: values a frame can carry (NaN, Infinity, byte arrays) or code can write (a Date) are refused, never changed by a restart", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tandem-attacks-"));
  try {
    const server = await net.server(vaultRegistry, { driver: fileDriver({ dir }) });
    const socket = await net.raw(server.url);
    await socket.hello();
    await socket.subscribe(1, "vault", "v");
    expect((await socket.action(1, 1, "keep", ["fine", { a: [1, "x", null] }])).ok).toBe(true);
    const refused: [string, unknown][] = [["nan", NaN], ["inf", -Infinity], ["bytes", new Uint8Array([1, 2])], ["deep", { a: [{ b: new Uint8Array([3]) }] }]];
    let id = 2;
    for (const [key, value] of refused) {
      const ack = await socket.action(1, id++, "keep", [key, value]);
      expect(ack.ok, key).toBe(false);
    }
    expect((await socket.action(1, id++, "keepDate", [])).ok).toBe(false);
    const before = await socket.action(1, id++, "kept", []);
    expect(before).toMatchObject({ ok: true, result: { fine: { a: [1, "x", null] } } });
    await socket.close();
    await net.closeServer(server);
    const again = await net.server(vaultRegistry, { driver: fileDriver({ dir }) });
    expect(await again.client.vault.get("v").kept()).toEqual({ fine: { a: [1, "x", null] } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const board = actor({
  state: { values: {} as Record<string, unknown> },
  onAuth: ({ params }) => ({ id: String((params as { user?: string }).user) }),
  canEdit: () => true,
  actions: {
    put: (c, key: string, value: unknown) => {
      c.state.values[key] = value;
      return true;
    },
    values: (c) => c.state.values,
  },
});
const boardRegistry = setup({ use: { board } });

/** A raw editor: its socket and a replica it edits and keeps in step with what the server sends. */
async function editor(url: string, user: string) {
  const socket = await net.raw(url);
  await socket.hello(`browser-${user}`);
  const { step2 } = await socket.subscribe(1, "board", "b", { params: { user } });
  const doc = new Y.Doc();
  Y.applyUpdate(doc, step2.data);
  let seen = 0;
  let nextId = 1;
  return {
    socket,
    doc,
    /** Applies what the server sent since the last call (updates and acks). */
    catchUp() {
      for (const message of socket.received.slice(seen)) {
        if (message.kind === Kind.sync && message.channel === 1) Y.applyUpdate(doc, message.data);
        if (message.kind === Kind.ack && message.ok && message.update.length > 0) Y.applyUpdate(doc, message.update);
      }
      seen = socket.received.length;
    },
    /** An edit of the replica (made now, whatever arrives later), sent. */
    async edit(change: (values: Y.Map<unknown>) => void) {
      const before = Y.encodeStateVector(doc);
      doc.transact(() => change(doc.getMap("state").get("values") as Y.Map<unknown>));
      return socket.edit(1, nextId++, Y.encodeStateAsUpdate(doc, before));
    },
  };
}

test("an edit may not write as a Yjs client another identity writes as (or as the actor itself): the victim's next edit is never acknowledged and dropped", async () => {
  const server = await net.server(boardRegistry);
  const victim = await editor(server.url, "victim");
  const attacker = await editor(server.url, "attacker");
  expect((await victim.socket.action(1, 900, "put", ["seed", 1])).ok).toBe(true);
  await sleep(50);
  victim.catchUp();
  attacker.catchUp();
  expect((await victim.edit((values) => values.set("v1", "a"))).ok).toBe(true);
  await sleep(50);
  attacker.catchUp();
  // The attacker writes as the victim's client id, at its next clock...
  const forged = new Y.Doc();
  Y.applyUpdate(forged, Y.encodeStateAsUpdate(attacker.doc));
  forged.clientID = victim.doc.clientID;
  const before = Y.encodeStateVector(forged);
  forged.transact(() => (forged.getMap("state").get("values") as Y.Map<unknown>).set("evil", "x"));
  const asVictim = await attacker.socket.edit(1, 100, Y.encodeStateAsUpdate(forged, before));
  expect(asVictim).toMatchObject({ ok: false, error: { code: "invalid_arguments" } });
  // ...or as the actor (its client id is in every action's update).
  const ack = await victim.socket.action(1, 901, "put", ["seed", 2]);
  const actorClient = Y.decodeUpdate(ack.ok ? ack.update : new Uint8Array()).structs[0]!.id.client;
  const asActor = new Y.Doc();
  await sleep(50);
  attacker.catchUp();
  Y.applyUpdate(asActor, Y.encodeStateAsUpdate(attacker.doc));
  asActor.clientID = actorClient;
  const beforeActor = Y.encodeStateVector(asActor);
  asActor.transact(() => (asActor.getMap("state").get("values") as Y.Map<unknown>).set("evil", "y"));
  expect(await attacker.socket.edit(1, 101, Y.encodeStateAsUpdate(asActor, beforeActor))).toMatchObject({ ok: false, error: { code: "invalid_arguments" } });
  // The victim's next edit lands, and its replica and the server agree.
  victim.catchUp();
  expect((await victim.edit((values) => values.set("v2", "b"))).ok).toBe(true);
  await sleep(50);
  victim.catchUp();
  const values = (await victim.socket.action(1, 902, "values", [])) as { ok: true; result: unknown };
  expect(values.result).toEqual({ seed: 2, v1: "a", v2: "b" });
  expect((victim.doc.getMap("state").get("values") as Y.Map<unknown>).toJSON()).toEqual(values.result);
  // The same identity on another socket (a reconnect, another tab) keeps writing as its client id.
  const again = await net.raw(server.url);
  await again.hello("browser-victim-2");
  await again.subscribe(1, "board", "b", { params: { user: "victim" } });
  const beforeAgain = Y.encodeStateVector(victim.doc);
  victim.doc.transact(() => (victim.doc.getMap("state").get("values") as Y.Map<unknown>).set("v3", "c"));
  expect((await again.edit(1, 1, Y.encodeStateAsUpdate(victim.doc, beforeAgain))).ok).toBe(true);
});

/** An update writing one GC struct for each of `count` Yjs clients from `base` on. */
function manyClientsUpdate(base: number, count: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, count);
  for (let i = 0; i < count; i++) {
    encoding.writeVarUint(encoder, 1); // one struct
    encoding.writeVarUint(encoder, base + i); // client
    encoding.writeVarUint(encoder, 0); // clock
    encoding.writeUint8(encoder, 0); // GC
    encoding.writeVarUint(encoder, 1); // length
  }
  encoding.writeVarUint(encoder, 0); // no deletions
  return encoding.toUint8Array(encoder);
}

test("an edit frame writes for at most maxEditClients Yjs clients: more is invalid_arguments and changes nothing (each costs the server ~500× more per byte than text)", async () => {
  const server = await net.server(boardRegistry);
  const socket = await net.raw(server.url);
  await socket.hello();
  await socket.subscribe(1, "board", "b", { params: { user: "u" } });
  const { maxEditClients } = DEFAULT_LIMITS;
  for (const count of [maxEditClients + 1, 100_000]) {
    expect(await socket.edit(1, count, manyClientsUpdate(1_000_000, count)), String(count)).toMatchObject({ ok: false, error: { code: "invalid_arguments" } });
  }
  const late = await net.raw(server.url);
  await late.hello();
  const { step2 } = await late.subscribe(1, "board", "b", { params: { user: "u" } });
  const doc = new Y.Doc();
  Y.applyUpdate(doc, step2.data);
  expect([...Y.decodeStateVector(Y.encodeStateVector(doc)).keys()].filter((client) => client >= 1_000_000 && client < 1_100_000)).toEqual([]);
  // At the limit, accepted.
  expect((await socket.edit(1, 1, manyClientsUpdate(2_000_000, maxEditClients))).ok).toBe(true);
});

test("channels per address count over all its sockets (maxChannelsPerAddress): one more subscribe is rate_limited; unsubscribes, refused subscribes and closed sockets give theirs back", async () => {
  const server = await net.server(boardRegistry, { limits: { maxChannelsPerAddress: 5, maxChannelsPerSocket: 4 } });
  const first = await net.raw(server.url);
  await first.hello();
  for (let channel = 1; channel <= 4; channel++) await first.subscribe(channel, "board", `b${channel}`, { params: { user: "u" } });
  const second = await net.raw(server.url);
  await second.hello();
  await second.subscribe(1, "board", "b", { params: { user: "u" } });
  const refuse = async (socket: typeof second, channel: number) => {
    socket.send({ kind: Kind.subscribe, channel, name: "board", target: { by: "key", mode: "getOrCreate", key: ["b"] }, params: { user: "u" }, stateVector: new Uint8Array() });
    const answer = await socket.next(Kind.unsubscribed, (m) => m.channel === channel);
    expect(answer.error.code).toBe("rate_limited");
  };
  await refuse(second, 2);
  // An unsubscribe gives its channel back.
  first.send({ kind: Kind.unsubscribe, channel: 4 });
  await waitFor(async () => (await second.subscribe(2, "board", "b", { params: { user: "u" } }).then(() => true).catch(() => false)), { timeoutMs: 2000 });
  await refuse(second, 3);
  // A subscribe the actor refuses gives its channel back (no such actor kind here).
  first.send({ kind: Kind.unsubscribe, channel: 3 });
  await sleep(20);
  first.send({ kind: Kind.subscribe, channel: 3, name: "nope", target: { by: "key", mode: "getOrCreate", key: ["b"] }, params: {}, stateVector: new Uint8Array() });
  expect((await first.next(Kind.unsubscribed, (m) => m.channel === 3)).error.code).toBe("actor_not_found");
  await second.subscribe(3, "board", "b", { params: { user: "u" } });
  // A closed socket gives all of its channels back.
  await first.close();
  await waitFor(async () => (await second.subscribe(4, "board", "b", { params: { user: "u" } }).then(() => true).catch(() => false)), { timeoutMs: 2000 });
  const third = await net.raw(server.url);
  await third.hello();
  await third.subscribe(1, "board", "b", { params: { user: "u" } }); // second's 4 + this one: 5
  await refuse(third, 2);
});

/** A v1 update of one struct of `client` at `clock`: its info byte and body written by `body`. */
function oneStruct(client: number, clock: number, body: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, client);
  encoding.writeVarUint(encoder, clock);
  body(encoder);
  encoding.writeVarUint(encoder, 0); // no deletions
  return encoding.toUint8Array(encoder);
}

/** An item under the state root's key "k" with content `ref` written by `content`. */
function keyedItem(client: number, ref: number, content: (encoder: encoding.Encoder) => void): Uint8Array {
  return oneStruct(client, 0, (encoder) => {
    encoding.writeUint8(encoder, ref | 0x20); // has parentSub
    encoding.writeVarUint(encoder, 1); // parent by root name
    encoding.writeVarString(encoder, "state");
    encoding.writeVarString(encoder, "k");
    content(encoder);
  });
}

/** An update that only deletes [clock, clock + len) of `client`. */
function deleteRange(client: number, clock: number, len: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, client);
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, clock);
  encoding.writeVarUint(encoder, len);
  return encoding.toUint8Array(encoder);
}

test("empty structs and empty delete ranges (which Yjs never writes) are refused: none restarts the actor or leaves a document replicas cannot read", async () => {
  const server = await net.server(boardRegistry);
  const watcher = await net.raw(server.url);
  await watcher.hello();
  const { step2: first } = await watcher.subscribe(1, "board", "b", { params: { user: "w" } });
  const ack = await watcher.action(1, 1, "put", ["a", 1]);
  const actorClient = Y.decodeUpdate(ack.ok ? ack.update : new Uint8Array()).structs[0]!.id.client;
  const current = new Y.Doc();
  Y.applyUpdate(current, first.data);
  Y.applyUpdate(current, ack.ok ? ack.update : new Uint8Array());
  const actorClock = Y.getState(current.store, actorClient);
  expect(actorClock).toBeGreaterThan(0);
  const cases: [string, Uint8Array][] = [
    ["an empty GC struct", oneStruct(77, 0, (e) => (encoding.writeUint8(e, 0), encoding.writeVarUint(e, 0)))],
    ["an empty deleted item", keyedItem(78, 1, (e) => encoding.writeVarUint(e, 0))],
    ["an empty string item", keyedItem(79, 4, (e) => encoding.writeVarString(e, ""))],
    ["an empty JSON item", keyedItem(80, 2, (e) => encoding.writeVarUint(e, 0))],
    ["an empty value item", keyedItem(81, 8, (e) => encoding.writeVarUint(e, 0))],
    ["an empty delete of an unknown client", deleteRange(5000, 0, 0)],
    ["an empty delete at the actor's clock", deleteRange(actorClient, actorClock, 0)],
  ];
  const editor = await net.raw(server.url);
  await editor.hello();
  await editor.subscribe(1, "board", "b", { params: { user: "e" } });
  for (const [i, [what, update]] of cases.entries()) {
    expect(await editor.edit(1, i + 1, update), what).toMatchObject({ ok: false, error: { code: "invalid_arguments" } });
  }
  // The actor kept running (nobody was dropped), and a new replica reads the whole document.
  expect(watcher.all(Kind.unsubscribed)).toEqual([]);
  const late = await net.raw(server.url);
  await late.hello();
  const { step2 } = await late.subscribe(1, "board", "b", { params: { user: "l" } });
  const replica = new Y.Doc();
  Y.applyUpdate(replica, step2.data);
  expect((replica.getMap("state").get("values") as Y.Map<unknown>).toJSON()).toEqual({ a: 1 });
});

test("the identity the server stamps on presence states counts toward maxPresenceStateBytes and maxPresenceBytesPerActor: a big identity cannot make a few bytes of state relay megabytes", async () => {
  const server = await net.server(boardRegistry, { limits: { maxPresenceStateBytes: 16 * 1024, maxPresenceBytesPerActor: 64 * 1024 } });
  const member = await net.raw(server.url);
  await member.hello();
  await member.subscribe(1, "board", "b", { params: { user: "m" } });
  // An identity larger than a state may be: every state of it is refused.
  const huge = await net.raw(server.url);
  await huge.hello();
  await huge.subscribe(1, "board", "b", { params: { user: "h".repeat(20 * 1024) } });
  huge.send({ kind: Kind.awareness, channel: 1, update: encodeAwarenessUpdate([{ clientId: 70, clock: 1, json: "{}" }]) });
  expect((await huge.nextError(1)).error.code).toBe("message_too_large");
  // An identity that fits, on many ids: the actor's bytes count each stamped copy.
  const big = await net.raw(server.url);
  await big.hello();
  await big.subscribe(1, "board", "b", { params: { user: "b".repeat(12 * 1024) } });
  big.send({ kind: Kind.awareness, channel: 1, update: encodeAwarenessUpdate([1, 2, 3, 4].map((i) => ({ clientId: 80 + i, clock: 1, json: "{}" }))) });
  const relayed = await member.next(Kind.awareness, (m) => m.channel === 1);
  expect(decodeAwarenessUpdate(relayed.update)?.map((e) => e.clientId)).toEqual([81, 82, 83, 84]);
  big.send({ kind: Kind.awareness, channel: 1, update: encodeAwarenessUpdate([5, 6].map((i) => ({ clientId: 80 + i, clock: 1, json: "{}" }))) });
  expect((await big.nextError(1)).error.code).toBe("rate_limited");
  // A small identity is not held back.
  member.send({ kind: Kind.awareness, channel: 1, update: encodeAwarenessUpdate([{ clientId: 90, clock: 1, json: "{}" }]) });
  await big.next(Kind.awareness, (m) => m.channel === 1 && (decodeAwarenessUpdate(m.update) ?? []).some((e) => e.clientId === 90));
});

test("params a channel holds for its life are limited (maxParamsBytes) on subscribe and re-auth: message_too_large, nothing changes", async () => {
  const server = await net.server(boardRegistry);
  const { maxParamsBytes } = DEFAULT_LIMITS;
  const socket = await net.raw(server.url);
  await socket.hello();
  const tooBig = [
    { user: "u", token: "t".repeat(maxParamsBytes + 1) },
    { user: "u", parts: Array.from({ length: 100 }, () => "p".repeat(Math.ceil(maxParamsBytes / 100))) },
  ];
  for (const [i, params] of tooBig.entries()) {
    const refused = await socket.subscribe(i + 1, "board", "b", { params }).catch((error: { wire?: { code: string } }) => error.wire?.code);
    expect(refused).toBe("message_too_large");
  }
  await socket.subscribe(10, "board", "b", { params: { user: "u", token: "t".repeat(maxParamsBytes / 2) } });
  for (const [i, params] of tooBig.entries()) {
    socket.send({ kind: Kind.auth, channel: 10, id: i + 1, params });
    const answer = await socket.next(Kind.authResult, (m) => m.id === i + 1);
    expect(answer).toMatchObject({ ok: false, error: { code: "message_too_large" } });
  }
  // The channel is still open, as the user it was.
  expect((await socket.action(10, 1, "put", ["k", 1])).ok).toBe(true);
  expect(socket.all(Kind.unsubscribed, 10)).toEqual([]);
});

/** onAuth of user "slow" waits for the test to open the gate. */
let gate: { promise: Promise<void>; open(): void } = makeGate();
function makeGate() {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
const gated = actor({
  state: { n: 0 },
  onAuth: async ({ params }) => {
    const user = String((params as { user?: string }).user);
    if (user === "slow" || user === "slow-refused") await gate.promise;
    if (user === "slow-refused") throw new Error("refused");
    return { id: user };
  },
  actions: { n: (c) => c.state.n, conns: (c) => c.conns.size, who: (c) => (c.conn.auth as { id: string }).id },
});
const gatedRegistry = setup({ use: { gated } });

test("a revoke made while onAuth is still deciding (a subscribe, a re-auth) applies to what it decides: access granted just before the revoke does not outlive it", async () => {
  const server = await net.server(gatedRegistry);
  const observer = await net.raw(server.url);
  await observer.hello();
  await observer.subscribe(1, "gated", "g", { params: { user: "o" } });
  const socket = await net.raw(server.url);
  await socket.hello();
  const target = { by: "key" as const, mode: "getOrCreate" as const, key: ["g"] };
  // A subscribe whose onAuth is deciding when the revoke comes.
  gate = makeGate();
  socket.send({ kind: Kind.subscribe, channel: 1, name: "gated", target, params: { user: "slow" }, stateVector: new Uint8Array() });
  await sleep(30);
  expect(server.revoke({ where: (auth) => (auth as { id: string }).id === "slow" })).toBe(0);
  gate.open();
  expect((await socket.next(Kind.unsubscribed, (m) => m.channel === 1)).error.code).toBe("unauthorized");
  // A re-auth whose onAuth is deciding when the revoke comes.
  await socket.subscribe(2, "gated", "g", { params: { user: "fast" } });
  gate = makeGate();
  socket.send({ kind: Kind.auth, channel: 2, id: 1, params: { user: "slow" } });
  await sleep(30);
  server.revoke({ where: (auth) => (auth as { id: string }).id === "slow" });
  gate.open();
  expect((await socket.next(Kind.unsubscribed, (m) => m.channel === 2)).error.code).toBe("unauthorized");
  // Only the observer is left on the actor; a revoke that matches nobody closes nothing.
  let id = 1;
  const conns = async () => {
    const ack = await observer.action(1, id++, "conns", []);
    return ack.ok ? ack.result : null;
  };
  await waitFor(async () => (await conns()) === 1, { timeoutMs: 1000 }).catch(() => {});
  expect(await conns()).toBe(1);
  await socket.subscribe(3, "gated", "g", { params: { user: "fast" } });
  gate = makeGate();
  socket.send({ kind: Kind.auth, channel: 3, id: 2, params: { user: "slow" } });
  await sleep(30);
  server.revoke({ where: (auth) => (auth as { id: string }).id === "nobody" });
  gate.open();
  expect(await socket.next(Kind.authResult, (m) => m.id === 2)).toMatchObject({ ok: true });
  await sleep(30);
  expect(socket.all(Kind.unsubscribed, 3)).toEqual([]);
});

test("the newest re-auth decides: an older one whose onAuth answers later (accepted or refused) changes nothing", async () => {
  const server = await net.server(gatedRegistry);
  const socket = await net.raw(server.url);
  await socket.hello();
  await socket.subscribe(1, "gated", "g", { params: { user: "first" } });
  let id = 0;
  for (const older of ["slow", "slow-refused"]) {
    gate = makeGate();
    const olderId = ++id;
    socket.send({ kind: Kind.auth, channel: 1, id: olderId, params: { user: older } });
    const newerId = ++id;
    socket.send({ kind: Kind.auth, channel: 1, id: newerId, params: { user: `newest-${older}` } });
    expect(await socket.next(Kind.authResult, (m) => m.id === newerId)).toMatchObject({ ok: true });
    gate.open();
    await socket.next(Kind.authResult, (m) => m.id === olderId);
    expect(await socket.action(1, 100 + id, "who", []), older).toMatchObject({ ok: true, result: `newest-${older}` });
  }
  expect(socket.all(Kind.unsubscribed, 1)).toEqual([]);
});

test("actions read and not yet answered are bounded by bytes too (maxPendingActionBytesPerSocket): a slow action cannot make the server hold hundreds of large argument lists; all are answered, in order, once it goes on", async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slow = actor({
    state: { n: 0, sizes: 0 },
    actions: {
      wait: async () => {
        await gate;
        return true;
      },
      take: (c, blob: string) => {
        c.state.n++;
        c.state.sizes += blob.length;
        return c.state.n;
      },
    },
  });
  const LIMIT = 1024 * 1024;
  const server = await net.server(setup({ use: { slow } }), { limits: { maxPendingActionBytesPerSocket: LIMIT } });
  const raw = await net.raw(server.url);
  await raw.hello();
  await raw.subscribe(1, "slow", "s");
  raw.send({ kind: Kind.action, channel: 1, id: 1, seq: 0, name: "wait", args: [] });
  const blob = "x".repeat(100 * 1024);
  const COUNT = 60; // ~6 MB of arguments behind one action that waits
  for (let i = 0; i < COUNT; i++) raw.send({ kind: Kind.action, channel: 1, id: 2 + i, seq: 0, name: "take", args: [blob] });
  await sleep(500);
  // Read and held: at most the limit plus one frame (before: all ~6 MB).
  expect(server.network.pendingActionBytes).toBeGreaterThan(0);
  expect(server.network.pendingActionBytes).toBeLessThanOrEqual(LIMIT + blob.length + 1024);
  release();
  const acks = [];
  for (let i = 0; i < COUNT; i++) acks.push(await raw.next(Kind.ack, (m) => m.channel === 1 && m.id === 2 + i, 10_000));
  expect(acks.map((ack) => (ack.ok ? ack.result : ack.error.code))).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
  await waitFor(() => server.network.pendingActionBytes === 0, { what: "nothing pending" });
});

test("errors repeat a caller's names, ids and keys cut short: a huge actor kind, id, key or action name never comes back (or into the logs) whole", async () => {
  const server = await net.server(registry);
  const huge = "x".repeat(200_000);
  const messages: string[] = [];
  // (Over HTTP the URL's names are cut by fastify first: maxParamLength, 414.)
  // The WebSocket: an unknown kind, an id that is no id, a missing key, an action that does not exist.
  const raw = await net.raw(server.url);
  await raw.hello();
  raw.send({ kind: Kind.subscribe, channel: 1, name: huge, target: { by: "key", mode: "get", key: ["r"] }, params: { token: "ok" }, stateVector: new Uint8Array() });
  raw.send({ kind: Kind.subscribe, channel: 2, name: "room", target: { by: "id", id: huge }, params: { token: "ok" }, stateVector: new Uint8Array() });
  raw.send({ kind: Kind.subscribe, channel: 3, name: "room", target: { by: "key", mode: "get", key: [huge] }, params: { token: "ok" }, stateVector: new Uint8Array() });
  for (const channel of [1, 2, 3]) {
    const refused = await raw.next(Kind.unsubscribed, (m) => m.channel === channel);
    // A key this long is refused as an argument before any lookup; the others are not found.
    expect(refused.error?.code).toBe(channel === 3 ? "invalid_arguments" : "actor_not_found");
    messages.push(refused.error!.message);
  }
  await raw.subscribe(4, "room", "r", { params: { token: "ok" } });
  raw.send({ kind: Kind.action, channel: 4, id: 1, seq: 0, name: huge, args: [] });
  const ack = await raw.next(Kind.ack, (m) => m.channel === 4 && m.id === 1);
  expect(ack.ok ? null : ack.error.code).toBe("action_not_found");
  if (!ack.ok) messages.push(ack.error.message);
  expect(messages).toHaveLength(4);
  for (const message of messages) expect(message.length).toBeLessThan(400);
});

/**
 * Issue 12, items 1 and 8: awareness states are bad input like any other. A state nested
 * thousands deep (under the frame limit) used to throw a RangeError from JSON.stringify at
 * the turn's end and kill the process; ids per connection and states per actor were
 * unbounded; a departed user's awareness client id could be taken by anyone. Each class is
 * refused with a clear error frame, changes nothing, and the server keeps serving.
 */
import { describe, expect, test } from "vitest";
import { recordUncaught } from "./support/uncaught.ts";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { actor, setup } from "tandem";
import { sleep, waitFor } from "./seed-helpers.ts";
import { Kind } from "../shared/protocol/index.ts";
import { useNetwork, type NetworkServerOptions, type RawSocket } from "./support/raw-socket.ts";

const room = actor({
  state: { count: 0 },
  onAuth: ({ params }) => ({ userId: String((params as { user?: string } | undefined)?.user ?? "anon") }),
  actions: {
    bump: (c) => ++c.state.count,
  },
});

const registry = setup({ use: { room } });
type R = typeof registry;

const net = useNetwork();

const uncaught = recordUncaught();

type States = Map<number, Record<string, unknown>>;

/** An awareness update by hand, with each state's JSON text as given. */
function awarenessUpdate(entries: { clientId: number; clock: number; json: string }[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, entry.json);
  }
  return encoding.toUint8Array(encoder);
}

/** The client ids an awareness frame relays. */
function relayedIds(update: Uint8Array): number[] {
  const decoder = decoding.createDecoder(update);
  const ids: number[] = [];
  for (let count = decoding.readVarUint(decoder); count > 0; count--) {
    ids.push(decoding.readVarUint(decoder));
    decoding.readVarUint(decoder);
    decoding.readVarString(decoder);
  }
  return ids;
}

const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const deepArray = (depth: number) => `{"a":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`;

/** A server, a well-behaved library client and a watching raw socket on room "r", and an attacker's raw socket on it. */
async function scenario(options: NetworkServerOptions = {}) {
  const server = await net.server(registry, options);
  const client = net.client<R>(server.url);
  const good = client.room.getOrCreate("r", { params: { user: "ada" } }).connect();
  await good.whenSynced();
  good.awareness.setLocalState({ cursor: 1 });
  const watcher = await net.raw(server.url);
  await watcher.hello("watcher");
  await watcher.subscribe(1, "room", "r", { params: { user: "wat" } });
  const attacker = await net.raw(server.url);
  await attacker.hello("attacker");
  await attacker.subscribe(1, "room", "r", { params: { user: "eve" } });
  let bumps = 0;
  return {
    server,
    good,
    watcher,
    attacker,
    /** The good client's actions are answered, its presence still flows, and nothing escaped. */
    async healthy() {
      expect(await good.bump()).toBe(++bumps);
      const cursor = Number((good.awareness.getLocalState() as { cursor: number }).cursor) + 1;
      good.awareness.setLocalState({ cursor });
      await waitFor(() => watcher.all(Kind.awareness, 1).some((m) => relayedIds(m.update).includes(good.awareness.clientID)), { what: "the good client's presence at the watcher" });
      expect(uncaught).toEqual([]);
      expect(good.status).toBe("synced");
      expect(attacker.isOpen).toBe(true);
    },
  };
}

/** Sends `update` from `socket` on channel 1 and returns the error code it gets. */
async function refusal(socket: RawSocket, update: Uint8Array): Promise<string> {
  socket.send({ kind: Kind.awareness, channel: 1, update });
  return (await socket.nextError(1)).error.code;
}

/** Two turns at least: whatever the server relays at a turn's end has gone (or thrown). */
const turns = () => sleep(50);

describe("awareness state depth and size", () => {
  test("states nested thousands deep are refused on every shape; the server keeps serving", async () => {
    const s = await scenario();
    await s.healthy();
    // Objects, arrays, arrays under a key, and one far past the size limit too.
    const shapes = [deepObject(6000), deepArray(6000), `{"x":${deepArray(20_000)}}`, deepObject(100_000)];
    let clock = 1;
    for (const json of shapes) {
      const code = await refusal(s.attacker, awarenessUpdate([{ clientId: 900, clock: clock++, json }]));
      expect(code === "invalid_arguments" || code === "message_too_large").toBe(true);
      await turns();
      await s.healthy();
    }
    // The two that fit in the state size limit are refused for their depth.
    expect(await refusal(s.attacker, awarenessUpdate([{ clientId: 900, clock: clock++, json: deepObject(6000) }]))).toBe("invalid_arguments");
    expect(await refusal(s.attacker, awarenessUpdate([{ clientId: 900, clock: clock++, json: deepArray(6000) }]))).toBe("invalid_arguments");
    await turns();
    expect(s.watcher.all(Kind.awareness, 1).some((m) => relayedIds(m.update).includes(900))).toBe(false);
    expect(s.good.awareness.getStates().has(900)).toBe(false);
    await s.healthy();
  });

  test("depth 64 passes, 65 is refused; brackets inside strings do not count", async () => {
    const s = await scenario();
    expect(await refusal(s.attacker, awarenessUpdate([{ clientId: 901, clock: 1, json: deepObject(65) }]))).toBe("invalid_arguments");
    s.attacker.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 901, clock: 2, json: deepObject(64) }]) });
    s.attacker.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 902, clock: 1, json: JSON.stringify({ text: "[[[[{{{{".repeat(100), q: '\\"[' }) }]) });
    await waitFor(() => (s.good.awareness.getStates() as States).has(901) && (s.good.awareness.getStates() as States).has(902), { what: "both states at the good client" });
    expect((s.good.awareness.getStates() as States).get(902)?.text).toBe("[[[[{{{{".repeat(100));
    expect(s.attacker.all(Kind.error, 1)).toHaveLength(1);
    await s.healthy();
  });

  test("an update with a good state and a deep one changes nothing", async () => {
    const s = await scenario();
    const before = s.watcher.all(Kind.awareness, 1).length;
    const mixed = awarenessUpdate([
      { clientId: 910, clock: 1, json: JSON.stringify({ cursor: 5 }) },
      { clientId: 911, clock: 1, json: deepObject(6000) },
    ]);
    expect(await refusal(s.attacker, mixed)).toBe("invalid_arguments");
    await turns();
    expect(s.watcher.all(Kind.awareness, 1).slice(before).some((m) => relayedIds(m.update).includes(910))).toBe(false);
    // A joiner's snapshot does not hold it either.
    const late = await net.raw(s.server.url);
    await late.hello("late");
    await late.subscribe(1, "room", "r", { params: { user: "late" } });
    const snapshot = await late.next(Kind.awareness, (m) => m.channel === 1);
    expect(relayedIds(snapshot.update)).toEqual([s.good.awareness.clientID]);
    await s.healthy();
  });

  test("a state over maxPresenceStateBytes is refused with message_too_large", async () => {
    const s = await scenario({ limits: { maxPresenceStateBytes: 1000 } });
    expect(await refusal(s.attacker, awarenessUpdate([{ clientId: 920, clock: 1, json: JSON.stringify({ pad: "é".repeat(600) }) }]))).toBe("message_too_large");
    s.attacker.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 920, clock: 2, json: JSON.stringify({ pad: "x".repeat(900) }) }]) });
    await waitFor(() => (s.good.awareness.getStates() as States).has(920), { what: "the state under the limit" });
    await s.healthy();
  });
});

describe("awareness ids per connection and states per actor", () => {
  test("a channel holds at most maxPresenceIdsPerChannel ids; removing one makes room", async () => {
    const s = await scenario({ limits: { maxPresenceIdsPerChannel: 4 } });
    const many = Array.from({ length: 5 }, (_, i) => ({ clientId: 1000 + i, clock: 1, json: "{}" }));
    expect(await refusal(s.attacker, awarenessUpdate(many))).toBe("rate_limited");
    await turns();
    expect([...s.good.awareness.getStates().keys()].some((id) => id >= 1000 && id < 1010)).toBe(false); // nothing of the refused update
    s.attacker.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate(many.slice(0, 4)) });
    await waitFor(() => s.good.awareness.getStates().has(1003), { what: "four ids" });
    expect(await refusal(s.attacker, awarenessUpdate([{ clientId: 1004, clock: 1, json: "{}" }]))).toBe("rate_limited");
    // Updating an id it holds is fine; removing one makes room for another (in the same update, too).
    s.attacker.send({
      kind: Kind.awareness,
      channel: 1,
      update: awarenessUpdate([
        { clientId: 1000, clock: 2, json: "null" },
        { clientId: 1004, clock: 1, json: '{"n":4}' },
      ]),
    });
    await waitFor(() => s.good.awareness.getStates().has(1004) && !s.good.awareness.getStates().has(1000), { what: "the swap" });
    // Another connection has its own allowance.
    const other = await net.raw(s.server.url);
    await other.hello("other");
    await other.subscribe(1, "room", "r", { params: { user: "oth" } });
    other.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 2000, clock: 1, json: "{}" }]) });
    await waitFor(() => s.good.awareness.getStates().has(2000), { what: "the other connection's id" });
    expect(s.attacker.all(Kind.error, 1)).toHaveLength(2);
    await s.healthy();
  });

  test("an actor holds at most maxPresenceStatesPerActor states and maxPresenceBytesPerActor bytes", async () => {
    const s = await scenario({ limits: { maxPresenceStatesPerActor: 3, maxPresenceBytesPerActor: 2000 } });
    // The good client holds one state: two more fit, a third does not.
    s.attacker.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 3000, clock: 1, json: "{}" }, { clientId: 3001, clock: 1, json: "{}" }]) });
    await waitFor(() => s.good.awareness.getStates().has(3001), { what: "two states" });
    expect(await refusal(s.attacker, awarenessUpdate([{ clientId: 3002, clock: 1, json: "{}" }]))).toBe("rate_limited");
    // Growing a held state past the actor's bytes is refused; the state keeps its value.
    expect(await refusal(s.attacker, awarenessUpdate([{ clientId: 3000, clock: 2, json: JSON.stringify({ pad: "x".repeat(2000) }) }]))).toBe("rate_limited");
    await turns();
    expect((s.good.awareness.getStates() as States).get(3000)).toEqual({ user: { userId: "eve" } });
    await s.healthy();
  });

  test("ids sent by the thousand are refused: the actor holds none of them", async () => {
    const s = await scenario();
    // Ten frames of 1,000 fresh ids each (under the frame limit): every one refused.
    for (let frame = 0; frame < 10; frame++) {
      const ids = Array.from({ length: 1000 }, (_, i) => ({ clientId: 10_000 + frame * 1000 + i, clock: 1, json: "{}" }));
      expect(await refusal(s.attacker, awarenessUpdate(ids))).toBe("rate_limited");
    }
    await turns();
    expect(s.good.awareness.getStates().size).toBe(1);
    await s.healthy();
  });
});

describe("a departed user's awareness client id", () => {
  test("cannot be taken by another client; its own client can bring it back", async () => {
    const server = await net.server(registry);
    const watcher = await net.raw(server.url);
    await watcher.hello("watcher");
    await watcher.subscribe(1, "room", "r", { params: { user: "wat" } });
    const alice = await net.raw(server.url);
    await alice.hello("alice-browser");
    await alice.subscribe(1, "room", "r", { params: { user: "alice" } });
    alice.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 4242, clock: 3, json: '{"cursor":1}' }]) });
    await waitFor(() => watcher.all(Kind.awareness, 1).some((m) => relayedIds(m.update).includes(4242)), { what: "alice's state" });
    await alice.close();
    await waitFor(() => watcher.all(Kind.awareness, 1).filter((m) => relayedIds(m.update).includes(4242)).length === 2, { what: "alice's removal" });
    // Mallory takes alice's id with a higher clock: refused, nobody sees it.
    const mallory = await net.raw(server.url);
    await mallory.hello("mallory");
    await mallory.subscribe(1, "room", "r", { params: { user: "alice" } }); // even under the same identity
    expect(await refusal(mallory, awarenessUpdate([{ clientId: 4242, clock: 100, json: '{"cursor":9}' }]))).toBe("invalid_arguments");
    await turns();
    expect(watcher.all(Kind.awareness, 1).filter((m) => relayedIds(m.update).includes(4242))).toHaveLength(2);
    // Alice's browser (same client id) reconnects and brings its id back.
    const back = await net.raw(server.url);
    await back.hello("alice-browser");
    await back.subscribe(1, "room", "r", { params: { user: "alice" } });
    back.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 4242, clock: 4, json: '{"cursor":2}' }]) });
    await waitFor(() => watcher.all(Kind.awareness, 1).filter((m) => relayedIds(m.update).includes(4242)).length === 3, { what: "alice's state back" });
    expect(back.all(Kind.error)).toEqual([]);
  });

  test("a client churning ids cannot push out another client's tombstone", async () => {
    const server = await net.server(registry);
    const alice = await net.raw(server.url);
    await alice.hello("alice-browser");
    await alice.subscribe(1, "room", "r", { params: { user: "alice" } });
    alice.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 4343, clock: 1, json: "{}" }]) });
    await alice.action(1, 1, "bump", []);
    await alice.close();
    const mallory = await net.raw(server.url);
    await mallory.hello("mallory");
    await mallory.subscribe(1, "room", "r", { params: { user: "mal" } });
    // 700 rounds of 16 fresh ids set and removed: 11,200 tombstones, more than an actor keeps.
    for (let round = 0; round < 700; round++) {
      const ids = Array.from({ length: 16 }, (_, i) => 50_000 + round * 16 + i);
      mallory.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate(ids.map((clientId) => ({ clientId, clock: 1, json: "{}" }))) });
      mallory.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate(ids.map((clientId) => ({ clientId, clock: 2, json: "null" }))) });
    }
    expect(await refusal(mallory, awarenessUpdate([{ clientId: 4343, clock: 100, json: "{}" }]))).toBe("invalid_arguments");
    expect(mallory.all(Kind.error)).toHaveLength(1);
  });
});

/**
 * Presence: y-protocols awareness per actor, relayed by the server with `user` stamped from
 * `c.conn.auth` (never trusted from the client), and removed when a connection leaves.
 */
import { describe, expect, test } from "vitest";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { actor, setup, Unauthorized } from "tandem";
import { sleep, waitFor } from "./seed-helpers.ts";
import { Kind } from "../shared/protocol/index.ts";
import { useNetwork } from "./support/raw-socket.ts";

const room = actor({
  state: { topic: "" },
  onAuth: ({ params }) => {
    if (!params.user) throw new Unauthorized();
    return { userId: params.user, name: params.user.toUpperCase(), secret: `token-of-${params.user}` };
  },
  actions: { noop: () => null },
});

const registry = setup({ use: { room } });
type R = typeof registry;

const net = useNetwork();

type States = Map<number, Record<string, unknown>>;

/** An awareness update by hand: count, then clientID, clock, JSON per state. */
function awarenessUpdate(entries: { clientId: number; clock: number; state: unknown }[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, JSON.stringify(entry.state));
  }
  return encoding.toUint8Array(encoder);
}

describe("presence", () => {
  test("a local state reaches the other client with user stamped from auth", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const ca = a.room.getOrCreate("r", { params: { user: "ada" } }).connect();
    const cb = b.room.getOrCreate("r", { params: { user: "bob" } }).connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    ca.awareness.setLocalState({ cursor: 1 });
    const adaId = ca.awareness.clientID;
    await waitFor(() => (cb.awareness.getStates() as States).get(adaId)?.cursor === 1, { what: "ada's cursor at bob" });
    expect((cb.awareness.getStates() as States).get(adaId)).toEqual({ cursor: 1, user: { userId: "ada", name: "ADA" } });
    // Updates follow.
    ca.awareness.setLocalStateField("cursor", 7);
    await waitFor(() => (cb.awareness.getStates() as States).get(adaId)?.cursor === 7, { what: "the moved cursor" });
    // And the other way round.
    cb.awareness.setLocalState({ cursor: 3 });
    const bobId = cb.awareness.clientID;
    await waitFor(() => (ca.awareness.getStates() as States).get(bobId)?.cursor === 3, { what: "bob's cursor at ada" });
    expect((ca.awareness.getStates() as States).get(bobId)?.user).toEqual({ userId: "bob", name: "BOB" });
  });

  test("a client that claims to be someone else still shows its real identity", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const mallory = a.room.getOrCreate("r", { params: { user: "mallory" } }).connect();
    const bob = b.room.getOrCreate("r", { params: { user: "bob" } }).connect();
    await Promise.all([mallory.whenSynced(), bob.whenSynced()]);
    mallory.awareness.setLocalState({ cursor: 2, user: "admin" });
    const id = mallory.awareness.clientID;
    await waitFor(() => (bob.awareness.getStates() as States).get(id)?.cursor === 2, { what: "mallory's state" });
    const seen = (bob.awareness.getStates() as States).get(id)!;
    expect(seen.user).toEqual({ userId: "mallory", name: "MALLORY" });
    expect(JSON.stringify(seen)).not.toContain("token-of"); // only identity fields, never the whole auth
  });

  test("a late joiner gets the states already there", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const ca = a.room.getOrCreate("r", { params: { user: "ada" } }).connect();
    await ca.whenSynced();
    ca.awareness.setLocalState({ cursor: 5 });
    await ca.noop(); // the awareness frame went before this action on the same socket
    const b = net.client<R>(server.url);
    const cb = b.room.getOrCreate("r", { params: { user: "bob" } }).connect();
    await cb.whenSynced();
    await waitFor(() => (cb.awareness.getStates() as States).get(ca.awareness.clientID)?.cursor === 5, { what: "the snapshot" });
  });

  test("a state set before the connection is subscribed is still shared", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const cb = b.room.getOrCreate("r", { params: { user: "bob" } }).connect();
    await cb.whenSynced();
    const ca = a.room.getOrCreate("r", { params: { user: "ada" } }).connect();
    ca.awareness.setLocalState({ cursor: 9 }); // right away, as an app would on mount
    await ca.whenSynced();
    await waitFor(() => (cb.awareness.getStates() as States).get(ca.awareness.clientID)?.cursor === 9, {
      what: "a state set before subscribe to reach the other client",
      timeoutMs: 1000,
    });
  });

  test("states disappear when the connection is disposed", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const ca = a.room.getOrCreate("r", { params: { user: "ada" } }).connect();
    const cb = b.room.getOrCreate("r", { params: { user: "bob" } }).connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    ca.awareness.setLocalState({ cursor: 1 });
    const adaId = ca.awareness.clientID;
    await waitFor(() => (cb.awareness.getStates() as States).has(adaId), { what: "ada's state" });
    ca.dispose();
    await waitFor(() => !(cb.awareness.getStates() as States).has(adaId), { what: "ada's state to go" });
  });

  test("states disappear when the link is cut, and come back after the reconnect", async () => {
    const server = await net.server(registry);
    const proxy = await net.proxy(server.port);
    const a = net.client<R>(proxy.url);
    const b = net.client<R>(server.url);
    const ca = a.room.getOrCreate("r", { params: { user: "ada" } }).connect();
    const cb = b.room.getOrCreate("r", { params: { user: "bob" } }).connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    ca.awareness.setLocalState({ cursor: 4 });
    cb.awareness.setLocalState({ cursor: 8 });
    const adaId = ca.awareness.clientID;
    const bobId = cb.awareness.clientID;
    await waitFor(() => (cb.awareness.getStates() as States).has(adaId) && (ca.awareness.getStates() as States).has(bobId), { what: "both states" });
    proxy.cut();
    await waitFor(() => !(cb.awareness.getStates() as States).has(adaId), { what: "ada's state to go at bob" });
    await waitFor(() => !(ca.awareness.getStates() as States).has(bobId), { what: "bob's state to go at ada (offline)" });
    proxy.restore();
    await waitFor(() => ca.status === "synced", { what: "the reconnect" });
    // Both directions must come back: bob's state (the server's snapshot) at ada, and ada's
    // own state (re-announced by her client) at bob.
    const back = async (check: () => boolean) => {
      try {
        await waitFor(check, { timeoutMs: 1000 });
        return true;
      } catch {
        return false;
      }
    };
    const [bobAtAda, adaAtBob] = await Promise.all([
      back(() => (ca.awareness.getStates() as States).get(bobId)?.cursor === 8),
      back(() => (cb.awareness.getStates() as States).get(adaId)?.cursor === 4),
    ]);
    expect({ bobAtAda, adaAtBob }).toEqual({ bobAtAda: true, adaAtBob: true });
  });

  test("a connection cannot speak for another's awareness client id", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const ca = a.room.getOrCreate("r", { params: { user: "ada" } }).connect();
    await ca.whenSynced();
    ca.awareness.setLocalState({ cursor: 1 });
    const adaId = ca.awareness.clientID;
    const raw = await net.raw(server.url);
    await raw.hello();
    await raw.subscribe(1, "room", "r", { params: { user: "eve" } });
    await raw.next(Kind.awareness, (m) => m.channel === 1); // the snapshot with ada's state
    raw.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: adaId, clock: 1000, state: { cursor: 666 } }]) });
    expect((await raw.nextError(1)).error.code).toBe("invalid_arguments");
    // Malformed awareness (not JSON, an array, trailing bytes) is refused too.
    const notJson = encoding.createEncoder();
    encoding.writeVarUint(notJson, 1);
    encoding.writeVarUint(notJson, 12345);
    encoding.writeVarUint(notJson, 1);
    encoding.writeVarString(notJson, "{not json");
    raw.send({ kind: Kind.awareness, channel: 1, update: encoding.toUint8Array(notJson) });
    expect((await raw.nextError(1)).error.code).toBe("invalid_arguments");
    raw.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 12346, clock: 1, state: [1, 2] }]) });
    expect((await raw.nextError(1)).error.code).toBe("invalid_arguments");
    raw.send({ kind: Kind.awareness, channel: 1, update: new Uint8Array([...awarenessUpdate([{ clientId: 12347, clock: 1, state: {} }]), 0]) });
    expect((await raw.nextError(1)).error.code).toBe("invalid_arguments");
    // eve's own state works and is stamped.
    raw.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 777, clock: 1, state: { cursor: 3, user: "root" } }]) });
    await waitFor(() => (ca.awareness.getStates() as States).get(777)?.cursor === 3, { what: "eve's state at ada" });
    expect((ca.awareness.getStates() as States).get(777)?.user).toEqual({ userId: "eve", name: "EVE" });
    await ca.noop();
    expect((ca.awareness.getStates() as States).get(adaId)).toEqual({ cursor: 1 }); // ada's own, untouched
  });

  test("changes of one turn are relayed as one update: the latest state of each, none back to its owner", async () => {
    const server = await net.server(registry);
    const observer = await net.raw(server.url);
    await observer.hello();
    await observer.subscribe(1, "room", "r", { params: { user: "obs" } });
    const writer = await net.raw(server.url);
    await writer.hello();
    await writer.subscribe(1, "room", "r", { params: { user: "wri" } });
    // Sent in one go (one read at the server, one turn): five changes of two states.
    for (let clock = 1; clock <= 5; clock++) {
      writer.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 501, clock, state: { cursor: clock } }]) });
    }
    writer.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate([{ clientId: 502, clock: 1, state: { cursor: 100 } }]) });
    const relayed = await observer.next(Kind.awareness, (m) => m.channel === 1);
    await sleep(100); // nothing more comes
    const decoder = decoding.createDecoder(relayed.update);
    const states: [number, number, unknown][] = [];
    for (let count = decoding.readVarUint(decoder); count > 0; count--) {
      states.push([decoding.readVarUint(decoder), decoding.readVarUint(decoder), JSON.parse(decoding.readVarString(decoder))]);
    }
    expect(states).toEqual([
      [501, 5, { cursor: 5, user: { userId: "wri", name: "WRI" } }],
      [502, 1, { cursor: 100, user: { userId: "wri", name: "WRI" } }],
    ]);
    expect(observer.all(Kind.awareness, 1)).toHaveLength(1);
    // The owner never gets its own states back.
    expect(writer.all(Kind.awareness, 1)).toEqual([]);
  });
});

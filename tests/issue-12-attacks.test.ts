/**
 * Issue 12, attacks a hostile client can make with well-formed frames that the first round
 * of hardening missed. Each test is a class: every way to reach the same flaw.
 */
import { expect, test } from "vitest";
import { actor, setup } from "tandem";
import { Kind } from "../shared/protocol/index.ts";
import { sleep, waitFor } from "./seed-helpers.ts";
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

/**
 * Issue 12, item 1: work that fails at the end of a turn closes the channel it belongs to,
 * never the process. Here the app's identity holds a bigint (JSON cannot hold it), so the
 * presence relay of that user's state throws at the turn's end — before, out of the event
 * loop. Now that channel is closed (unsubscribed, retry) and logged; every other channel,
 * socket and actor keeps serving.
 */
import { expect, test } from "vitest";
import { encodeAwarenessUpdate } from "../shared/protocol/awareness-update.ts";
import { recordUncaught } from "./support/uncaught.ts";
import { actor, setup } from "tandem";
import type { ServerLogger } from "tandem/server";
import { sleep, waitFor } from "./seed-helpers.ts";
import { Kind } from "../shared/protocol/index.ts";
import { useNetwork } from "./support/raw-socket.ts";

const room = actor({
  state: { n: 0 },
  onAuth: ({ params }) => ({ id: (params as { odd?: boolean } | undefined)?.odd ? 10n : "plain" }),
  actions: { inc: (c) => ++c.state.n },
});
const other = actor({
  state: { n: 0 },
  actions: { inc: (c) => ++c.state.n },
});

const registry = setup({ use: { room, other } });
type R = typeof registry;

const net = useNetwork();

const uncaught = recordUncaught();

/** An awareness update with one state. */
function awarenessUpdate(clientID: number, clock: number, state: unknown): Uint8Array {
  return encodeAwarenessUpdate([{ clientID, clock, json: JSON.stringify(state) }]);
}

test("a presence relay that throws at the turn's end closes its owner's channel; the process and every other channel keep serving", async () => {
  const errors: string[] = [];
  const noop = () => {};
  const logger: ServerLogger = { debug: noop, info: noop, warn: noop, error: (_obj, msg) => errors.push(String(msg)), child: () => logger };
  const server = await net.server(registry, { logger });
  const client = net.client<R>(server.url);
  const good = client.other.getOrCreate("o").connect();
  const watcherConn = client.room.getOrCreate("r").connect();
  await Promise.all([good.whenSynced(), watcherConn.whenSynced()]);
  // The odd user: one socket, the room on channel 1 (odd identity) and the other actor on channel 2.
  const odd = await net.raw(server.url);
  await odd.hello("odd");
  await odd.subscribe(1, "room", "r", { params: { odd: true } });
  await odd.subscribe(2, "other", "o");
  odd.send({ kind: Kind.awareness, channel: 1, update: awarenessUpdate(777, 1, { cursor: 1 }) });
  const closed = await odd.next(Kind.unsubscribed, (m) => m.channel === 1);
  expect(closed).toMatchObject({ retry: true, error: { code: "internal_error" } });
  await sleep(50);
  expect(uncaught).toEqual([]);
  expect(errors).toContain("a channel failed at the end of a turn");
  // The same socket's other channel works, and so do the other clients and actors.
  expect(odd.isOpen).toBe(true);
  expect((await odd.action(2, 1, "inc", [])).ok).toBe(true);
  expect(await good.inc()).toBe(2);
  expect(await watcherConn.inc()).toBe(1);
  watcherConn.awareness.setLocalState({ cursor: 5 });
  const plain = await net.raw(server.url);
  await plain.hello("plain");
  await plain.subscribe(1, "room", "r");
  await waitFor(() => plain.all(Kind.awareness, 1).length > 0, { what: "the watcher's presence at a new member" });
  expect(watcherConn.awareness.getStates().has(777)).toBe(false);
  expect(uncaught).toEqual([]);
});

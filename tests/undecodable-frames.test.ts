/**
 * A frame the server cannot decode (a value nested past the wire limit, bytes after a valid
 * frame) used to be answered with an error on channel 0 only: its caller — an action, an
 * edit, a token refresh, a subscribe — waited for ever, and a client's outbox resent the
 * action after every reconnect. Now every such frame whose header can be read is answered on
 * its own terms, and the client refuses arguments nested too deep before they reach its
 * outbox. The socket and everyone else carry on.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup } from "tandem";
import type { ServerLogger } from "tandem/server";
import { Kind, encodeUp } from "../shared/protocol/index.ts";
import { MAX_VALUE_DEPTH } from "../shared/protocol/value.ts";
import { within } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const box = actor({
  state: { items: [] as unknown[], notes: new Y.Text("") },
  canEdit: () => true,
  actions: {
    put: (c, value: unknown) => {
      c.state.items.push(value === null ? null : "value");
      return c.state.items.length;
    },
  },
});
const registry = setup({ use: { box } });
type R = typeof registry;
const net = useNetwork();

function nested(depth: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

async function quietServer() {
  const internal: string[] = [];
  const noop = () => {};
  const logger: ServerLogger = { debug: noop, info: noop, warn: noop, error: (obj, msg) => internal.push(`${msg}: ${String((obj as { err?: unknown })?.err ?? obj)}`), child: () => logger };
  return { server: await net.server(registry, { logger }), internal };
}

describe("a client's arguments nested past the wire limit", () => {
  test("are refused at once with invalid_arguments and never enter the outbox", async () => {
    const { server } = await quietServer();
    const conn = net.client<R>(server.url).box.getOrCreate("k").connect();
    await conn.whenSynced();
    await expect(within(conn.put(nested(MAX_VALUE_DEPTH + 5)), 3000, "the deep call")).rejects.toMatchObject({ code: "invalid_arguments" });
    expect(conn.pending).toBe(0);
    expect(await conn.put(nested(MAX_VALUE_DEPTH - 2))).toBe(1); // within the limit: fine
  });
});

describe("undecodable frames are answered to their caller", () => {
  test("action, edit, token refresh and subscribe each get their own refusal; the socket carries on", async () => {
    const { server, internal } = await quietServer();
    const raw = await net.raw(server.url);
    await raw.hello();
    await raw.subscribe(1, "box", "k");

    raw.sendBytes(encodeUp({ kind: Kind.action, channel: 1, id: 7, name: "put", args: [nested(MAX_VALUE_DEPTH + 5)], seq: 0 }));
    expect(await raw.nextMatch((m) => m.kind === Kind.ack && m.id === 7)).toMatchObject({ ok: false, error: { code: "malformed_frame" } });

    const edit = encodeUp({ kind: Kind.edit, channel: 1, id: 8, update: new Uint8Array([0, 0]) });
    raw.sendBytes(new Uint8Array([...edit, 1, 2, 3]));
    expect(await raw.nextMatch((m) => m.kind === Kind.editResult && m.id === 8)).toMatchObject({ ok: false, error: { code: "malformed_frame" } });

    raw.sendBytes(encodeUp({ kind: Kind.auth, channel: 1, id: 9, params: nested(MAX_VALUE_DEPTH + 5) }));
    expect(await raw.nextMatch((m) => m.kind === Kind.authResult && m.id === 9)).toMatchObject({ ok: false, error: { code: "malformed_frame" } });

    raw.sendBytes(encodeUp({ kind: Kind.subscribe, channel: 2, name: "box", target: { by: "key", mode: "getOrCreate", key: ["other"], input: undefined }, params: nested(MAX_VALUE_DEPTH + 5), stateVector: new Uint8Array() }));
    expect(await raw.nextMatch((m) => m.kind === Kind.unsubscribed && m.channel === 2)).toMatchObject({ retry: false, error: { code: "malformed_frame" } });

    // Nothing ran, the socket is open, and a good action still goes through.
    expect(await server.client.box.get("k").put(null)).toBe(1);
    expect(await raw.action(1, 10, "put", [null])).toMatchObject({ ok: true, result: 2 });
    expect(raw.isOpen).toBe(true);
    expect(internal).toEqual([]);
  });
});

/**
 * Seeded fuzz of the socket boundary: random bytes and mutated valid frames (bytes flipped,
 * truncated, spliced, grown) on raw sockets, a few hundred per seed, while a good client
 * keeps working. Afterwards the server is alive, logged no internal error, the good
 * actor's state is exactly what the good client did, and good acks still come back.
 * Each seed is printed; `SEED=<n>` re-runs one, `SEEDS=<n>` runs more.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import * as encoding from "lib0/encoding";
import { z } from "zod";
import { actor, setup } from "tandem";
import type { ServerLogger } from "tandem/server";
import { waitFor, within } from "./seed-helpers.ts";
import { Kind, PROTOCOL_VERSION, encodeUp, type UpMessage } from "../shared/protocol/index.ts";
import { random, seeds, type Random } from "./support/random.ts";
import { useNetwork, type RawSocket } from "./support/raw-socket.ts";

const GOOD_KEY = "the-good-client-key-do-not-touch";
const FUZZ_KEY = "fz";

const target = actor({
  state: { items: [] as string[], text: new Y.Text(""), meta: {} as Record<string, number> },
  canEdit: () => true,
  schemas: { typed: z.tuple([z.string(), z.number()]) },
  actions: {
    add: (c, item: string) => {
      c.state.items.push(String(item));
      return c.state.items.length;
    },
    typed: (c, key: string, value: number) => {
      c.state.meta[key] = value;
      return true;
    },
    read: (c) => ({ items: [...c.state.items], text: c.state.text.toString() }),
  },
});

const registry = setup({ use: { target } });
type R = typeof registry;

const net = useNetwork();

/** A logger that keeps error-level entries: an internal error is a bug the fuzz found. */
function capturingLogger(): ServerLogger & { errors: { obj: unknown; msg?: string }[] } {
  const errors: { obj: unknown; msg?: string }[] = [];
  const noop = () => {};
  const logger = { debug: noop, info: noop, warn: noop, error: (obj: unknown, msg?: string) => errors.push({ obj, msg }), child: () => logger, errors };
  return logger;
}

/** Valid frames to mutate: every client kind, aimed at the fuzz actor. */
function corpus(stepTwo: Uint8Array): Uint8Array[] {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, stepTwo);
  const sv = Y.encodeStateVector(doc);
  (doc.getMap("state").get("text") as Y.Text).insert(0, "fuzz");
  const edit = Y.encodeStateAsUpdate(doc, sv);
  const awareness = encoding.createEncoder();
  encoding.writeVarUint(awareness, 1);
  encoding.writeVarUint(awareness, 4242);
  encoding.writeVarUint(awareness, 1);
  encoding.writeVarString(awareness, JSON.stringify({ cursor: 1 }));
  const frames: UpMessage[] = [
    { kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId: "fuzzer" },
    { kind: Kind.subscribe, channel: 2, name: "target", target: { by: "key", mode: "getOrCreate", key: [FUZZ_KEY], input: { n: 1 } }, params: { token: "t" }, stateVector: sv },
    { kind: Kind.subscribe, channel: 3, name: "target", target: { by: "id", id: "abc" }, params: undefined, stateVector: new Uint8Array() },
    { kind: Kind.unsubscribe, channel: 2 },
    { kind: Kind.sync, channel: 1, step: "step1", data: sv },
    { kind: Kind.action, channel: 1, id: 7, name: "add", args: ["fuzz", 2, null, { deep: [true, new Uint8Array([9])] }], seq: 0 },
    { kind: Kind.action, channel: 1, id: 8, name: "typed", args: ["k", 1], seq: 3 },
    { kind: Kind.action, channel: 1, id: 9, name: "read", args: [], seq: 0 },
    { kind: Kind.edit, channel: 1, id: 1, update: edit },
    { kind: Kind.awareness, channel: 1, update: encoding.toUint8Array(awareness) },
  ];
  return frames.map(encodeUp);
}

function randomBytes(rng: Random, max: number): Uint8Array {
  return Uint8Array.from({ length: rng.int(max + 1) }, () => (rng.bool(0.3) ? rng.pick([0, 1, 2, 0x7f, 0x80, 0xff, 118, 119, 117, 116]) : rng.int(256)));
}

/** One bad frame: random bytes, or a valid one flipped, truncated, spliced or grown. */
function mutant(rng: Random, frames: Uint8Array[]): { how: string; bytes: Uint8Array } {
  const base = rng.pick(frames);
  switch (rng.int(6)) {
    case 0:
      return { how: "random", bytes: randomBytes(rng, 48) };
    case 1: {
      const bytes = base.slice();
      for (let flips = 1 + rng.int(4); flips > 0; flips--) bytes[rng.int(bytes.length)] = rng.int(256);
      return { how: "flip", bytes };
    }
    case 2:
      return { how: "truncate", bytes: base.slice(0, rng.int(base.length)) };
    case 3: {
      const other = rng.pick(frames);
      const cut = rng.int(base.length);
      return { how: "splice", bytes: new Uint8Array([...base.slice(0, cut), ...other.slice(rng.int(other.length))]) };
    }
    case 4: {
      const at = rng.int(base.length + 1);
      return { how: "insert", bytes: new Uint8Array([...base.slice(0, at), ...randomBytes(rng, 8), ...base.slice(at)]) };
    }
    default: {
      // A valid header with a random body.
      return { how: "header+random", bytes: new Uint8Array([...base.slice(0, 2), ...randomBytes(rng, 32)]) };
    }
  }
}

const FRAMES_PER_SEED = 300;

describe("fuzzing the socket boundary", () => {
  for (const seed of seeds(8)) {
    test(`seed ${seed}`, async () => {
      console.log(`network fuzz: SEED=${seed}`);
      const rng = random(seed);
      const log = capturingLogger();
      const server = await net.server(registry, { logger: log });
      const client = net.client<R>(server.url);
      const good = client.target.getOrCreate(GOOD_KEY).connect();
      await good.whenSynced();

      // Raw sockets: some greeted and subscribed to the fuzz actor, one never greeted.
      const sockets: RawSocket[] = [];
      let stepTwo: Uint8Array = new Uint8Array();
      for (let i = 0; i < 3; i++) {
        const raw = await net.raw(server.url);
        await raw.hello(`fuzzer-${i}`);
        stepTwo = (await raw.subscribe(1, "target", FUZZ_KEY)).step2.data;
        sockets.push(raw);
      }
      sockets.push(await net.raw(server.url));
      const frames = corpus(stepTwo);

      const expected: string[] = [];
      const history: string[] = [];
      for (let i = 0; i < FRAMES_PER_SEED; i++) {
        const socket = rng.pick(sockets);
        const { how, bytes } = mutant(rng, frames);
        history.push(`${how}:${Buffer.from(bytes).toString("hex")}`);
        if (socket.isOpen) socket.sendBytes(bytes);
        if (i % 60 === 59) {
          // The good client, interleaved: its actions all land, in order, once.
          const item = `good-${i}`;
          expect(await within(good.add(item), 3000, `the good client's action at frame ${i} (SEED=${seed})`)).toBe(expected.length + 1);
          expected.push(item);
        }
      }

      // The server is alive and still answers everyone properly.
      const openapi = await fetch(`${server.url}/openapi.json`);
      expect(openapi.status).toBe(200);
      expect(await within(good.add("after"), 3000, `the good client after the fuzz (SEED=${seed})`)).toBe(expected.length + 1);
      expected.push("after");
      expect(await server.client.target.get(GOOD_KEY).read()).toEqual({ items: expected, text: "" });
      await waitFor(() => good.state?.items.length === expected.length, { what: "the good replica" });
      expect(good.state?.items).toEqual(expected);
      expect(good.status).toBe("synced");
      expect(await client.target.get(GOOD_KEY).read()).toEqual({ items: expected, text: "" });

      // Raw sockets still open can still do proper work on a fresh channel.
      for (const [index, socket] of sockets.entries()) {
        if (!socket.isOpen) continue;
        expect(socket.undecodable).toEqual([]); // the server only ever sends valid frames
        if (index === sockets.length - 1 && socket.all(Kind.welcome).length === 0) {
          await socket.hello(`late-${seed}`);
        }
        if (socket.all(Kind.welcome).length === 0) continue;
        const channel = 100 + index;
        await socket.subscribe(channel, "target", GOOD_KEY);
        const ack = await socket.action(channel, 9999, "read", []);
        expect(ack.ok).toBe(true);
      }
      const internal = log.errors.map((e) => `${e.msg}: ${String((e.obj as { err?: unknown })?.err ?? "")}`);
      expect(internal, `internal errors (SEED=${seed}): ${internal.join(" | ")}`).toEqual([]);
      expect(history).toHaveLength(FRAMES_PER_SEED);
    });
  }
});

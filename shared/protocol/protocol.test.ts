/**
 * Codec pairs: every message kind round-trips, and malformed bytes fail with
 * `malformed_frame` (never a crash, a hang or an out-of-bounds read).
 */
import { describe, expect, test } from "vitest";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { Awareness, encodeAwarenessUpdate } from "y-protocols/awareness";
import { messageYjsUpdate } from "y-protocols/sync";
import * as Y from "yjs";
import { random, seeds } from "../../tests/support/random.ts";
import { decodeAwarenessUpdate, encodeAwarenessUpdate as ourEncodeAwarenessUpdate, withoutClients } from "./awareness-update.ts";
import {
  type DownMessage,
  Kind,
  MAX_IN_FLIGHT,
  MalformedFrame,
  RESULT_WINDOW,
  type UpMessage,
  decodeDown,
  decodeDownMessages,
  decodeUp,
  encodeBatch,
  encodeDown,
  encodeUp,
  retryAfterFromReason,
  withRetryAfter,
} from "./index.ts";
import { decodeSync, syncBody } from "./sync.ts";

const error = { code: "user_error", message: "nope", group: "user" as const, metadata: { why: [1, "x"] } };

const ups: UpMessage[] = [
  { kind: Kind.hello, channel: 0, version: 1, clientId: "client-1", epoch: 3 },
  { kind: Kind.subscribe, channel: 3, name: "room", target: { by: "key", mode: "getOrCreate", key: ["a", "b/c"], input: { n: 1 } }, params: { token: "t" }, stateVector: new Uint8Array([1, 2]) },
  { kind: Kind.subscribe, channel: 4, name: "room", target: { by: "id", id: "abc" }, params: undefined, stateVector: new Uint8Array() },
  { kind: Kind.unsubscribe, channel: 3 },
  { kind: Kind.sync, channel: 3, step: "step1", data: new Uint8Array([0]) },
  { kind: Kind.action, channel: 3, id: 7, name: "send", args: ["hi", 2, null, { deep: [true, new Uint8Array([9])] }], seq: 42 },
  { kind: Kind.edit, channel: 3, id: 1, update: new Uint8Array([1, 2, 3]) },
  { kind: Kind.awareness, channel: 3, update: new Uint8Array([5]) },
];

const downs: DownMessage[] = [
  { kind: Kind.welcome, channel: 0, version: 1, minVersion: 1, clientId: "client-1", socketId: "ws-1" },
  { kind: Kind.subscribed, channel: 3, actorId: "id", canEdit: true, connId: "ws-1.3" },
  { kind: Kind.unsubscribed, channel: 3, error, retry: false },
  { kind: Kind.sync, channel: 3, step: "step2", data: new Uint8Array([1, 2]) },
  { kind: Kind.sync, channel: 3, step: "update", data: new Uint8Array([3]) },
  { kind: Kind.ack, channel: 3, id: 7, ok: true, result: { n: 1.5 }, update: new Uint8Array([4]) },
  { kind: Kind.ack, channel: 3, id: 8, ok: false, error, update: new Uint8Array() },
  { kind: Kind.editResult, channel: 3, id: 1, ok: true },
  { kind: Kind.editResult, channel: 3, id: 2, ok: false, error },
  { kind: Kind.event, channel: 3, name: "newMessage", payload: { text: "hi" } },
  { kind: Kind.awareness, channel: 3, update: new Uint8Array([5]) },
  { kind: Kind.error, channel: 0, error: { code: "rate_limited", message: "slow", group: "client" } },
];

describe("round trips", () => {
  for (const message of ups) test(`up kind ${message.kind}`, () => expect(decodeUp(encodeUp(message))).toEqual(message));
  for (const message of downs) test(`down kind ${message.kind}`, () => expect(decodeDown(encodeDown(message))).toEqual(message));
});

describe("hello", () => {
  test("a hello without the epoch (older clients) reads as epoch 0", () => {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, Kind.hello);
    encoding.writeVarUint(encoder, 0);
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarString(encoder, "old-client");
    expect(decodeUp(encoding.toUint8Array(encoder))).toEqual({ kind: Kind.hello, channel: 0, version: 1, clientId: "old-client", epoch: 0 });
  });
});

describe("malformed frames", () => {
  const frame = (...bytes: number[]) => new Uint8Array(bytes);

  test("unknown kinds, wrong direction, trailing bytes, truncation", () => {
    expect(() => decodeUp(frame(99, 0))).toThrow(MalformedFrame);
    expect(() => decodeUp(encodeDown(downs[0]!))).toThrow(/not a client frame/);
    expect(() => decodeDown(encodeUp(ups[0]!))).toThrow(/not a server frame/);
    expect(() => decodeUp(new Uint8Array([...encodeUp(ups[3]!), 0]))).toThrow(/trailing/);
    const action = encodeUp(ups[5]!);
    for (let cut = 0; cut < action.length; cut++) expect(() => decodeUp(action.subarray(0, cut))).toThrow(MalformedFrame);
    expect(() => decodeUp(frame())).toThrow(MalformedFrame);
  });

  test("strings: ASCII, multi-byte and invalid UTF-8, at and around the short-string length", () => {
    const texts = ["", "a", "tick", "x".repeat(31), "y".repeat(32), "z".repeat(33), "é", "naïve", "日本語のイベント名", "emoji 🎉", "a".repeat(31) + "é", "ü".repeat(40)];
    for (const name of texts) {
      const message = { kind: Kind.event, channel: 1, name, payload: { [name]: name } } as const;
      expect(decodeDown(encodeDown(message))).toEqual(message);
    }
    // Invalid UTF-8 reads as TextDecoder reads it (U+FFFD), short or long.
    for (const bytes of [[0x61, 0xff, 0x62], [...new Array(40).fill(0x61), 0xc3]]) {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, Kind.event);
      encoding.writeVarUint(encoder, 1);
      encoding.writeVarUint8Array(encoder, new Uint8Array(bytes));
      encoding.writeAny(encoder, null);
      expect(decodeDown(encoding.toUint8Array(encoder))).toMatchObject({ name: new TextDecoder().decode(new Uint8Array(bytes)) });
    }
  });

  test("batch: several frames in one message, decoded in order; malformed batches refused whole", () => {
    const frames = downs.map(encodeDown);
    const batch = encodeBatch(frames);
    expect(decodeDownMessages(batch)).toEqual(downs);
    expect(decodeDownMessages(encodeDown(downs[0]!))).toEqual([downs[0]]);
    expect(() => decodeDown(batch)).toThrow(/not a server frame/);
    // Cut anywhere inside: never a partial list, always malformed.
    for (let cut = 1; cut < batch.length; cut++) {
      let decoded: unknown = null;
      try {
        decoded = decodeDownMessages(batch.subarray(0, cut));
      } catch (error) {
        expect(error).toBeInstanceOf(MalformedFrame);
        continue;
      }
      // A cut exactly between frames is a shorter, valid batch.
      expect(downs.slice(0, (decoded as unknown[]).length)).toEqual(decoded);
    }
    expect(() => decodeDownMessages(new Uint8Array([Kind.batch, 1, 1, Kind.welcome]))).toThrow(/channel 0/);
    expect(() => decodeDownMessages(new Uint8Array([Kind.batch, 0, 0]))).toThrow(/empty frame/);
    expect(() => decodeDownMessages(new Uint8Array([Kind.batch, 0, 9, 1, 2]))).toThrow(/past the end/);
    expect(() => decodeDownMessages(encodeBatch([encodeBatch([frames[0]!])]))).toThrow(/batch inside a batch/);
    expect(() => decodeDownMessages(encodeBatch([frames[0]!, encodeUp(ups[0]!)]))).toThrow(/not a server frame/);
    // The decoded bytes are the message's own: changing the received buffer changes nothing.
    const received = encodeBatch([encodeDown(downs[3]!)]);
    const sync = decodeDownMessages(received)[0] as { data: Uint8Array };
    received.fill(0);
    expect(sync.data).toEqual(new Uint8Array([1, 2]));
  });

  test("lengths past the end never read neighbouring memory", () => {
    // A string claiming 100 bytes inside a frame cut from a larger buffer.
    const big = new Uint8Array(256).fill(65);
    big.set([Kind.hello, 0, 1, 100], 0);
    expect(() => decodeUp(big.subarray(0, 10))).toThrow(/past the end/);
  });

  test("hostile values: deep nesting, __proto__ keys, unknown tags, non-array args", () => {
    const nested = encoding.createEncoder();
    encoding.writeVarUint(nested, Kind.action);
    encoding.writeVarUint(nested, 1);
    encoding.writeVarUint(nested, 1);
    encoding.writeVarString(nested, "a");
    for (let i = 0; i < 1000; i++) {
      encoding.writeUint8(nested, 117);
      encoding.writeVarUint(nested, 1);
    }
    encoding.writeUint8(nested, 126);
    encoding.writeVarUint(nested, 0);
    expect(() => decodeUp(encoding.toUint8Array(nested))).toThrow(/deeper/);

    const proto = encoding.createEncoder();
    encoding.writeVarUint(proto, Kind.action);
    encoding.writeVarUint(proto, 1);
    encoding.writeVarUint(proto, 1);
    encoding.writeVarString(proto, "a");
    encoding.writeUint8(proto, 117);
    encoding.writeVarUint(proto, 1);
    encoding.writeUint8(proto, 118);
    encoding.writeVarUint(proto, 1);
    encoding.writeVarString(proto, "__proto__");
    encoding.writeAny(proto, { polluted: true });
    encoding.writeVarUint(proto, 0);
    expect(() => decodeUp(encoding.toUint8Array(proto))).toThrow(/__proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    expect(() => decodeUp(frame(Kind.action, 1, 1, 1, 97, 3))).toThrow(/unknown value tag/);
    const notArray = encoding.createEncoder();
    encoding.writeVarUint(notArray, Kind.action);
    encoding.writeVarUint(notArray, 1);
    encoding.writeVarUint(notArray, 1);
    encoding.writeVarString(notArray, "a");
    encoding.writeAny(notArray, "x");
    encoding.writeVarUint(notArray, 0);
    expect(() => decodeUp(encoding.toUint8Array(notArray))).toThrow(/array/);
  });

  for (const seed of seeds(20)) {
    test(`random and mutated bytes only ever fail as malformed (seed ${seed})`, () => {
      const r = random(seed);
      for (let i = 0; i < 500; i++) {
        const base = r.bool(0.3) ? new Uint8Array(r.int(40)).map(() => r.int(256)) : encodeUp(r.pick(ups)).slice();
        for (let flips = r.int(4); flips > 0 && base.length > 0; flips--) base[r.int(base.length)] = r.int(256);
        const bytes = r.bool(0.3) ? base.subarray(0, r.int(base.length + 1)) : base;
        try {
          decodeUp(bytes);
        } catch (e) {
          expect(e, `seed ${seed}: ${Array.from(bytes).join(",")}`).toBeInstanceOf(MalformedFrame);
        }
      }
    });
  }
});

describe("codecs shared by both sides", () => {
  test("awareness updates: y-protocols' own encoding round-trips, states can be dropped, short bytes are malformed", () => {
    const doc = new Y.Doc();
    doc.clientID = 7;
    const awareness = new Awareness(doc);
    awareness.setLocalState({ cursor: 3, name: "ada" });
    const update = encodeAwarenessUpdate(awareness, [7]);
    const entries = decodeAwarenessUpdate(update);
    expect(entries).toEqual([{ clientID: 7, clock: awareness.meta.get(7)!.clock, json: JSON.stringify({ cursor: 3, name: "ada" }) }]);
    expect(ourEncodeAwarenessUpdate(entries)).toEqual(update);
    const two = ourEncodeAwarenessUpdate([...entries, { clientID: 9, clock: 1, json: "null" }]);
    expect(withoutClients(two, new Set([9]))).toEqual(update);
    expect(withoutClients(two, new Set())).toBe(two);
    expect(withoutClients(update, new Set([7]))).toBeNull();
    for (let cut = 0; cut < update.length; cut++) expect(() => decodeAwarenessUpdate(update.subarray(0, cut))).toThrow(MalformedFrame);
    awareness.destroy();
  });

  test("sync bodies carry y-protocols' message tags", () => {
    for (const step of ["step1", "step2", "update"] as const) {
      const body = syncBody(step, new Uint8Array([4, 5]));
      expect(decodeSync(decoding.createDecoder(body), 1)).toEqual({ kind: Kind.sync, channel: 1, step, data: new Uint8Array([4, 5]) });
    }
    expect(syncBody("update", new Uint8Array())[0]).toBe(messageYjsUpdate);
  });

  test("retry-after close reasons, and the two windows of exactly-once", () => {
    expect(retryAfterFromReason(withRetryAfter("server closing", 1500))).toBe(1500);
    expect(retryAfterFromReason("server closing")).toBeNull();
    expect(MAX_IN_FLIGHT).toBeLessThan(RESULT_WINDOW); // every resend finds its result (PROTOCOL.md "Windows")
  });
});

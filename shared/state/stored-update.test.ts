import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { type Random, random, seeds } from "../../tests/support/random.ts";
import { applyStoredUpdate } from "./stored-update.ts";

/** Both ways of applying `update`: the same document, the same values, the same errors. */
function expectSameAsYjs(update: Uint8Array): Y.Doc {
  const expected = new Y.Doc();
  let expectedError: unknown = null;
  try {
    Y.applyUpdate(expected, update);
  } catch (error) {
    expectedError = error;
  }
  const actual = new Y.Doc();
  if (expectedError !== null) {
    expect(() => applyStoredUpdate(actual, update)).toThrow(expectedError as Error);
    return actual;
  }
  applyStoredUpdate(actual, update);
  expect(Y.encodeStateAsUpdate(actual)).toEqual(Y.encodeStateAsUpdate(expected));
  const values = (doc: Y.Doc) => doc.getArray("list").toArray();
  expect(values(actual)).toStrictEqual(values(expected));
  for (const [i, value] of values(expected).entries()) {
    // lib0 assigns keys: a "__proto__" key holding an object replaces the prototype.
    if (typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)) {
      const [mine, theirs] = [Object.getPrototypeOf(values(actual)[i]), Object.getPrototypeOf(value)];
      expect(mine === Object.prototype).toBe(theirs === Object.prototype);
      if (theirs !== Object.prototype) expect(mine).toStrictEqual(theirs);
    }
  }
  expect(actual.getMap("map").toJSON()).toStrictEqual(expected.getMap("map").toJSON());
  return actual;
}

function updateDoc(update: Uint8Array): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc;
}

function updateOf(fill: (doc: Y.Doc) => void): Uint8Array {
  const doc = new Y.Doc();
  fill(doc);
  return Y.encodeStateAsUpdate(doc);
}

const ALPHABET = ["a", "Z", "0", " ", "-", "~", "\x7f", "\x00", "é", "\u00ff", "€", "\u0080", "😀", "\ufeff"];

function randomString(rnd: Random): string {
  const length = rnd.next() < 0.8 ? rnd.int(14) : rnd.int(200);
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[rnd.next() < 0.85 ? rnd.int(7) : rnd.int(ALPHABET.length)]!;
  return out;
}

function randomValue(rnd: Random, depth = 0): unknown {
  const kind = rnd.int(depth > 2 ? 7 : 9);
  switch (kind) {
    case 0:
    case 1:
    case 2:
      return randomString(rnd);
    case 3:
      return rnd.int(2 ** 31) * (rnd.next() < 0.5 ? -1 : 1);
    case 4:
      return rnd.next() * 1e6;
    case 5:
      return [true, false, null][rnd.int(3)];
    case 6:
      return new Uint8Array(Array.from({ length: rnd.int(20) }, () => rnd.int(256)));
    case 7:
      return Array.from({ length: rnd.int(5) }, () => randomValue(rnd, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = rnd.int(5); i > 0; i--) object[randomString(rnd)] = randomValue(rnd, depth + 1);
      return object;
    }
  }
}

describe("applyStoredUpdate decodes as Y.applyUpdate does", () => {
  test("a long list of short ASCII strings, pushed in many transactions", () => {
    const update = updateOf((doc) => {
      const list = doc.getArray<string>("list");
      for (let from = 0; from < 20_000; from += 100) doc.transact(() => list.push(Array.from({ length: 100 }, (_, i) => `item-${from + i}`)));
    });
    const doc = expectSameAsYjs(update);
    expect(doc.getArray("list").length).toBe(20_000);
    expect(doc.getArray("list").get(19_999)).toBe("item-19999");
  });

  test("strings at every length around the fast path's limits, ASCII or not", () => {
    const strings: string[] = [""];
    for (let length = 1; length <= 140; length++) {
      strings.push("x".repeat(length), `${"y".repeat(length - 1)}é`, `é${"z".repeat(length - 1)}`, `\ufeff${"b".repeat(length - 1)}`);
    }
    expectSameAsYjs(updateOf((doc) => doc.getArray("list").push(strings)));
  });

  test("strings that straddle the decoding windows of a large update", () => {
    // ~64 KiB windows: strings of every offset parity cross each boundary.
    const update = updateOf((doc) => {
      const list = doc.getArray<unknown>("list");
      list.push(Array.from({ length: 30_000 }, (_, i) => (i % 997 === 0 ? `ü${i}` : i % 3 === 0 ? "abcdefghijkl" : `s${i}`)));
      list.push([new Uint8Array(70_000).fill(0x61), "after-binary", { key: "value", "ключ": "значение" }]);
    });
    expectSameAsYjs(update);
  });

  test("objects and arrays: keys and members are decoded the same way, __proto__ included", () => {
    const update = updateOf((doc) => {
      doc.getArray("list").push([
        { id: "a1", text: "hello", tags: ["x", "yé", ""], nested: { deep: ["ok", 1, null] } },
        JSON.parse('{"__proto__": {"polluted": "yes"}, "plain": "p"}'),
        JSON.parse('{"__proto__": "a string", "b": 2}'),
        [[], {}, [""]],
      ]);
      doc.getMap("map").set("entry", { name: "n", list: ["a", "b"] });
    });
    expectSameAsYjs(update);
  });

  test.each(seeds(3))("random values, seed %i (re-run with SEED=<seed>)", (seed) => {
    const rnd = random(seed);
    const update = updateOf((doc) => {
      for (let round = 0; round < 30; round++) {
        doc.transact(() => {
          const list = doc.getArray<unknown>("list");
          list.insert(rnd.int(list.length + 1), Array.from({ length: 1 + rnd.int(50) }, () => randomValue(rnd)));
          if (list.length > 10 && rnd.bool(0.3)) list.delete(rnd.int(list.length - 5), rnd.int(5));
          doc.getMap("map").set(randomString(rnd), randomValue(rnd));
        });
      }
    });
    expectSameAsYjs(update);
  });

  test("a damaged update fails as Y.applyUpdate fails", () => {
    const update = updateOf((doc) => doc.getArray("list").push(["item-1", "item-2", "a longer string, past the fast path"]));
    for (const cut of [update.length - 1, update.length - 4, update.length - 12, 20]) expectSameAsYjs(update.subarray(0, cut));
    const lying = update.slice();
    lying[lying.indexOf(0x77) + 1] = 0x7f; // a string length past the end of the update
    expectSameAsYjs(lying);
  });

  test("applies into a document that already has state, with the caller's origin", () => {
    const base = updateOf((doc) => doc.getArray("list").push(["first"]));
    const more = new Y.Doc();
    Y.applyUpdate(more, base);
    more.getArray("list").push(["second", "third"]);
    const delta = Y.encodeStateAsUpdate(more, Y.encodeStateVector(updateDoc(base)));
    const run = (apply: (doc: Y.Doc, update: Uint8Array, origin: unknown) => void) => {
      const doc = updateDoc(base);
      const origins: unknown[] = [];
      doc.on("afterTransaction", (transaction: Y.Transaction) => origins.push(transaction.origin));
      apply(doc, delta, "storage");
      return { items: doc.getArray("list").toArray(), origins };
    };
    const mine = run(applyStoredUpdate);
    expect(mine.items).toEqual(["first", "second", "third"]);
    expect(mine.origins).toContain("storage");
    expect(mine).toEqual(run(Y.applyUpdate));
  });
});

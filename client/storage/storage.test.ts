/** One conformance suite for every storage: memory, and IndexedDB (fake-indexeddb in Node). */
import "fake-indexeddb/auto";
import { describe, expect, test } from "vitest";
import { indexedDbStorage } from "./indexeddb.ts";
import { memoryStorage } from "./memory.ts";
import type { ClientStorage } from "./storage.ts";

let databases = 0;
const kinds: [string, () => ClientStorage][] = [
  ["memory", () => memoryStorage()],
  ["indexeddb", () => indexedDbStorage(`tandem-test-${databases++}`)],
];

for (const [kind, make] of kinds) {
  describe(`${kind} storage`, () => {
    test("get, batch and list in key order", async () => {
      const storage = make();
      expect(await storage.get("missing")).toBeUndefined();
      await storage.batch([
        ["a:2", { n: 2 }],
        ["a:10", new Uint8Array([1, 2])],
        ["a:1", "one"],
        ["b:1", true],
      ]);
      expect(await storage.get("a:1")).toBe("one");
      expect(await storage.get("a:10")).toEqual(new Uint8Array([1, 2]));
      expect((await storage.list("a:")).map(([k]) => k)).toEqual(["a:1", "a:10", "a:2"]);
      expect(await storage.list("c:")).toEqual([]);
    });

    test("a batch puts and deletes together; values are copies", async () => {
      const storage = make();
      const value = { list: [1] };
      await storage.batch([["x", value], ["y", 1]]);
      value.list.push(2);
      expect(await storage.get("x")).toEqual({ list: [1] });
      await storage.batch([["z", 3]], ["x", "y"]);
      expect(await storage.list("")).toEqual([["z", 3]]);
    });

    test("values come back as structuredClone would give them: plain records, deep, and what is not plain", async () => {
      const storage = make();
      const record = { seq: 3, name: "add", args: ["x", 1.5, -0, null, undefined, true, [1, [2, { deep: [3] }]], { nested: { a: 1 } }], bytes: new Uint8Array([7]) };
      const special = { when: new Date(5), map: new Map([["k", 1]]), set: new Set([1]), sparse: [1, , 3], bare: Object.assign(Object.create(null) as object, { a: 1 }) };
      const proto = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as object;
      const cyclic: { self?: unknown; n: number } = { n: 1 };
      cyclic.self = cyclic;
      let deep: unknown = "bottom";
      for (let i = 0; i < 100; i++) deep = [deep];
      const values: [string, unknown][] = [["record", record], ["special", special], ["proto", proto], ["cyclic", cyclic], ["deep", deep]];
      await storage.batch(values);
      for (const [key, value] of values) {
        const read = await storage.get(key);
        expect(read).toEqual(structuredClone(value));
        expect(read).not.toBe(value);
      }
      const readRecord = (await storage.get("record")) as typeof record;
      expect(Object.is(readRecord.args[2], -0)).toBe(true);
      expect(readRecord.args).toHaveLength(8);
      expect(readRecord.bytes).toBeInstanceOf(Uint8Array);
      const readSpecial = (await storage.get("special")) as typeof special;
      expect(readSpecial.when).toBeInstanceOf(Date);
      expect(readSpecial.map).toBeInstanceOf(Map);
      expect(1 in readSpecial.sparse).toBe(false);
      const readProto = (await storage.get("proto")) as Record<string, unknown>;
      expect(Object.hasOwn(readProto, "__proto__")).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      const readCyclic = (await storage.get("cyclic")) as typeof cyclic;
      expect(readCyclic.self).toBe(readCyclic);
      // Changing what was read changes nothing stored.
      readRecord.args.push("more");
      (readRecord.args[6] as unknown[]).push(9);
      expect(await storage.get("record")).toEqual(record);
      await expect(storage.batch([["fn", { f: () => 1 }]])).rejects.toThrow();
    });

    test("clear removes a prefix only", async () => {
      const storage = make();
      await storage.batch([["r:1:a", 1], ["r:1:b", 2], ["r:2:a", 3]]);
      await storage.clear("r:1:");
      expect(await storage.list("r:")).toEqual([["r:2:a", 3]]);
    });

    test("a failed batch writes nothing", async () => {
      const storage = make();
      await storage.batch([["keep", 1]]);
      await expect(storage.batch([["bad", () => 1]], ["keep"])).rejects.toThrow();
      expect(await storage.get("keep")).toBe(1);
      expect(await storage.get("bad")).toBeUndefined();
    });
  });
}

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

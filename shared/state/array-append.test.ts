/**
 * Appending to an array of the document reads nothing of what is already there: a push to a
 * 10,000-element list neither copies the list into the draft nor walks it. Checked by counting
 * the Y.Array reads, not by timing. Mixed with other writes, appends keep the draft's meaning
 * (the model-based test in draft.test.ts covers that at random; here, the edges of the tail).
 */
import { afterEach, expect, test, vi } from "vitest";
import * as Y from "yjs";
import { Draft, stateRoot, stateToJSON } from "./index.ts";

const SIZE = 10_000;

function bigList(): Y.Doc {
  const doc = new Y.Doc();
  const draft = new Draft(stateRoot(doc));
  (draft.view as { items: number[] }).items = Array.from({ length: SIZE }, (_, i) => i);
  draft.commit();
  return doc;
}

afterEach(() => vi.restoreAllMocks());

test("pushes to a large array read none of its elements, and commit as one insert", () => {
  const doc = bigList();
  const toArray = vi.spyOn(Y.Array.prototype, "toArray");
  const get = vi.spyOn(Y.Array.prototype, "get");
  const draft = new Draft(stateRoot(doc));
  const items = (draft.view as { items: unknown[] }).items;
  for (let i = 0; i < 100; i++) items.push(`new-${i}`);
  items[items.length] = "by index";
  expect(items.length).toBe(SIZE + 101);
  expect(items[SIZE]).toBe("new-0");
  expect(items[SIZE + 100]).toBe("by index");
  expect(toArray).not.toHaveBeenCalled();
  expect(get).toHaveBeenCalledTimes(0);

  const updates: Uint8Array[] = [];
  doc.on("update", (update: Uint8Array) => updates.push(update));
  draft.commit();
  expect(updates).toHaveLength(1);
  const list = stateToJSON(doc).items as unknown[];
  expect(list).toHaveLength(SIZE + 101);
  expect(list.slice(SIZE - 1)).toEqual([SIZE - 1, ...Array.from({ length: 100 }, (_, i) => `new-${i}`), "by index"]);
});

test("after appends: pop, reads, other writes and a discarded draft behave like a plain array", () => {
  const doc = bigList();
  const before = Y.encodeStateAsUpdate(doc);
  const model = Array.from({ length: SIZE }, (_, i) => i) as unknown[];

  const discarded = new Draft(stateRoot(doc));
  (discarded.view as { items: unknown[] }).items.push("x", "y");
  discarded.close();
  expect(Y.encodeStateAsUpdate(doc)).toEqual(before);

  const draft = new Draft(stateRoot(doc));
  const items = (draft.view as { items: unknown[] }).items;
  const both = (fn: (list: unknown[]) => unknown) => expect(fn(items)).toEqual(fn(model));
  both((list) => list.push("a", "b", "c"));
  both((list) => list.pop()); // within the appended tail
  both((list) => list[SIZE + 1]);
  both((list) => list.push("d"));
  both((list) => list.splice(SIZE - 2, 3, "m")); // across the base and the tail: a copy from here on
  both((list) => list.push("e"));
  both((list) => list.pop());
  both((list) => list.pop());
  both((list) => list.slice(SIZE - 5));
  both((list) => list.length);
  draft.commit();
  expect(stateToJSON(doc).items).toEqual(model);
});

/** Edit batching: merged when possible, each edit answered as it would have been alone. */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { Kind } from "../../shared/protocol/kinds.ts";
import type { Edit } from "../../shared/protocol/index.ts";
import { EditBatcher, type EditTarget } from "./edit-batch.ts";

/** `count` one-character edits of one client, each depending on the one before. */
function edits(count: number): Edit[] {
  const doc = new Y.Doc();
  const out: Edit[] = [];
  doc.on("update", (update: Uint8Array) => out.push({ kind: Kind.edit, channel: 1, id: out.length + 1, update }));
  for (let i = 0; i < count; i++) doc.getText("t").insert(i, "abcdefghij"[i % 10]!);
  return out;
}

function target(options: { mergeable?: boolean; ready?: boolean; refuse?: (doc: Y.Doc, update: Uint8Array) => boolean } = {}) {
  const doc = new Y.Doc();
  const applied: number[] = [];
  const answers: [number, "ok" | "refused" | "not subscribed"][] = [];
  const t: EditTarget = {
    ready: async () => options.ready ?? true,
    mergeable: () => options.mergeable ?? true,
    apply: async (updates) => {
      await Promise.resolve();
      const update = Y.mergeUpdates([...updates]);
      if (options.refuse?.(doc, update)) throw new Error("refused");
      Y.transact(doc, () => {
        for (const u of updates) Y.applyUpdate(doc, u);
      });
      applied.push(Y.decodeUpdate(update).structs.length);
    },
    answer: (edit, error) => answers.push([edit.id, error === null ? "ok" : "refused"]),
    notSubscribed: (edit) => answers.push([edit.id, "not subscribed"]),
  };
  return { t, doc, applied, answers };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("edit batches", () => {
  test("edits that arrive together are applied as one and answered one by one", async () => {
    const { t, doc, applied, answers } = target();
    const batcher = new EditBatcher(t);
    for (const edit of edits(5)) void batcher.add(edit);
    await settle();
    expect(applied).toHaveLength(1);
    expect(answers).toEqual([1, 2, 3, 4, 5].map((id) => [id, "ok"]));
    expect(doc.getText("t").toString()).toBe("abcde");
  });

  test("a refused batch is applied edit by edit: those before the bad one are accepted", async () => {
    const all = edits(4);
    const bad = all[2]!.update;
    // The target refuses any update holding the third edit's structs.
    const refuse = (_doc: Y.Doc, update: Uint8Array) => {
      const meta = Y.parseUpdateMeta(update);
      const badMeta = Y.parseUpdateMeta(bad);
      const [client, from] = [...badMeta.from][0]!;
      return (meta.from.get(client) ?? Infinity) <= from && (meta.to.get(client) ?? 0) > from;
    };
    const { t, doc, answers } = target({ refuse });
    const batcher = new EditBatcher(t);
    for (const edit of all) void batcher.add(edit);
    await settle();
    expect(answers).toEqual([
      [1, "ok"],
      [2, "ok"],
      [3, "refused"],
      [4, "ok"], // alone, a later edit is the server's business (it would fail the dependency check)
    ]);
    expect(doc.getText("t").toString().startsWith("ab")).toBe(true);
  });

  test("another frame ends the batch", async () => {
    const { t, applied, answers } = target();
    const batcher = new EditBatcher(t);
    const [a, b, c] = edits(3);
    void batcher.add(a!);
    void batcher.add(b!);
    batcher.close();
    void batcher.add(c!);
    await settle();
    expect(applied).toEqual([2, 1]); // two applies: a and b merged, then c
    expect(answers.map(([id]) => id)).toEqual([1, 2, 3]);
  });

  test("edits of an actor that validates each edit are applied one at a time, in order", async () => {
    const { t, applied, answers } = target({ mergeable: false });
    const batcher = new EditBatcher(t);
    for (const edit of edits(3)) void batcher.add(edit);
    await settle();
    expect(applied).toHaveLength(3);
    expect(answers).toEqual([1, 2, 3].map((id) => [id, "ok"]));
  });

  test("edits on a channel that is not subscribed are all answered", async () => {
    const { t, answers } = target({ ready: false });
    const batcher = new EditBatcher(t);
    for (const edit of edits(3)) void batcher.add(edit);
    await settle();
    expect(answers).toEqual([1, 2, 3].map((id) => [id, "not subscribed"]));
  });
});

/**
 * checkEditUpdate reads an update once and asks the document for single clocks; this checks
 * it against the straightforward reading (parseUpdateMeta + a decoded state vector) on
 * random edits that the actor has, half has, or lacks the dependencies of.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { checkEditUpdate, checkEditUpdates } from "../server/runtime/edit-check.ts";
import { STATE_ROOT } from "../shared/state/index.ts";
import { random, seeds } from "./support/random.ts";

/** The check as first written: the reference. */
function reference(doc: Y.Doc, update: Uint8Array): string | null {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  let meta: ReturnType<typeof Y.parseUpdateMeta>;
  try {
    decoded = Y.decodeUpdate(update);
    meta = Y.parseUpdateMeta(update);
  } catch {
    return "invalid";
  }
  const known = Y.decodeStateVector(Y.encodeStateVector(doc));
  for (const [client, from] of meta.from) if (from > (known.get(client) ?? 0)) return "depends";
  const available = new Map(known);
  for (const [client, to] of meta.to) {
    if ((meta.from.get(client) ?? 0) <= (known.get(client) ?? 0)) available.set(client, Math.max(known.get(client) ?? 0, to));
  }
  // Yjs applies an update's deletions after its structs: they may delete what it brings.
  for (const [client, deletes] of decoded.ds.clients) {
    for (const item of deletes) if (item.clock + item.len > (available.get(client) ?? 0)) return "deletes";
  }
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue;
    for (const id of [struct.origin, struct.rightOrigin, struct.parent instanceof Y.ID ? struct.parent : null]) {
      if (id !== null && id.clock >= (available.get(id.client) ?? 0)) return "refers";
    }
    if (typeof struct.parent === "string" && struct.parent !== STATE_ROOT) return "outside";
    if (struct.parentSub === "__proto__") return "proto";
  }
  return null;
}

function verdict(doc: Y.Doc, update: Uint8Array): string | null {
  try {
    checkEditUpdate(doc, update);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

describe("checkEditUpdate = the reference check", () => {
  for (const seed of seeds(30)) {
    test(`seed ${seed}`, () => {
      const r = random(seed);
      // Two writers edit a text and a map; the actor gets some of their updates.
      const writers = [new Y.Doc(), new Y.Doc()];
      const updates: Uint8Array[] = [];
      for (const writer of writers) writer.on("update", (u: Uint8Array) => updates.push(u));
      const actor = new Y.Doc();
      const outcomes = { accepted: 0, refused: 0 };
      for (let step = 0; step < 60; step++) {
        const writer = r.pick(writers);
        const root = writer.getMap(STATE_ROOT);
        if (!root.has("text")) root.set("text", new Y.Text());
        const text = root.get("text") as Y.Text;
        if (r.bool(0.2)) root.set(r.pick(["a", "b", "c"]), r.int(10));
        else if (text.length > 0 && r.bool(0.3)) text.delete(r.int(text.length), 1);
        else text.insert(r.int(text.length + 1), r.string(3));
        if (r.bool(0.3)) Y.applyUpdate(writers[0]!, Y.encodeStateAsUpdate(writers[1]!));
        if (r.bool(0.3)) Y.applyUpdate(writers[1]!, Y.encodeStateAsUpdate(writers[0]!));
        // Something the actor may or may not be able to take: one update, or a merge of a few.
        const at = r.int(updates.length);
        const candidate = r.bool(0.5) ? updates[at]! : Y.mergeUpdates(updates.slice(at, at + 1 + r.int(4)));
        const expected = reference(actor, candidate);
        const got = verdict(actor, candidate);
        expect(got === null, `seed ${seed} step ${step}: reference ${expected}, got ${got}`).toBe(expected === null);
        outcomes[got === null ? "accepted" : "refused"]++;
        if (got === null) Y.applyUpdate(actor, candidate);
        expect(actor.store.pendingStructs).toBeNull();
      }
      expect(outcomes.accepted).toBeGreaterThan(0);
      expect(outcomes.refused).toBeGreaterThan(0);
      expect(verdict(actor, new Uint8Array([1, 2, 3]))).toContain("not a valid");
    });
  }
});

describe("checkEditUpdates (a batch of edit frames) = the reference check of their merge", () => {
  for (const seed of seeds(30)) {
    test(`seed ${seed}`, () => {
      const r = random(seed);
      // One editor typing (a batch is one socket's frames): runs of its consecutive updates.
      const writer = new Y.Doc();
      const updates: Uint8Array[] = [];
      writer.on("update", (u: Uint8Array) => updates.push(u));
      const actor = new Y.Doc();
      let applied = 0;
      const outcomes = { accepted: 0, refused: 0 };
      for (let step = 0; step < 60; step++) {
        const root = writer.getMap(STATE_ROOT);
        if (!root.has("text")) root.set("text", new Y.Text());
        const text = root.get("text") as Y.Text;
        for (let i = 1 + r.int(4); i > 0; i--) {
          if (r.bool(0.15)) root.set(r.pick(["a", "b"]), r.int(10));
          else if (text.length > 0 && r.bool(0.25)) text.delete(r.int(text.length), 1);
          else text.insert(r.int(text.length + 1), r.string(2));
        }
        // The next frames in order (accepted), or a batch that skips some (refused: a gap).
        const from = r.bool(0.8) ? applied : Math.min(updates.length - 1, applied + 1 + r.int(2));
        const batch = updates.slice(from, from + 1 + r.int(6));
        if (batch.length === 0) continue;
        const expected = reference(actor, Y.mergeUpdates(batch));
        let got: string | null = null;
        try {
          checkEditUpdates(actor, batch);
        } catch (error) {
          got = (error as Error).message;
        }
        expect(got === null, `seed ${seed} step ${step}: reference ${expected}, got ${got}`).toBe(expected === null);
        outcomes[got === null ? "accepted" : "refused"]++;
        if (got === null) {
          Y.transact(actor, () => {
            for (const update of batch) Y.applyUpdate(actor, update);
          });
          applied = Math.max(applied, from + batch.length);
        }
        expect(actor.store.pendingStructs).toBeNull();
        expect(actor.store.pendingDs).toBeNull();
      }
      expect(outcomes.accepted).toBeGreaterThan(0);
      expect(outcomes.refused).toBeGreaterThan(0);
    });
  }
});

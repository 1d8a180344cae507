/**
 * Checks a direct edit (a client's Yjs update) before the actor applies it: it must decode,
 * touch only the state root, use no `__proto__` keys, and depend only on what the actor
 * already has — Yjs would otherwise park it (and every later update of that client)
 * forever, waiting for clock ranges that will never come.
 */
import * as Y from "yjs";
import { InvalidArguments } from "../../shared/errors.ts";
import { STATE_ROOT } from "../../shared/state/index.ts";

export function checkEditUpdate(doc: Y.Doc, update: Uint8Array): void {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  let meta: ReturnType<typeof Y.parseUpdateMeta>;
  try {
    decoded = Y.decodeUpdate(update);
    meta = Y.parseUpdateMeta(update);
  } catch {
    throw new InvalidArguments("The edit is not a valid Yjs update");
  }
  const known = Y.decodeStateVector(Y.encodeStateVector(doc));
  for (const [client, from] of meta.from) {
    if (from > (known.get(client) ?? 0)) {
      throw new InvalidArguments(`The edit depends on changes of client ${client} the actor does not have (from clock ${from})`);
    }
  }
  // Deleting what the actor never had would park the delete set forever (Yjs pendingDs).
  for (const [client, deletes] of decoded.ds.clients) {
    const have = known.get(client) ?? 0;
    for (const item of deletes) {
      if (item.clock + item.len > have) {
        throw new InvalidArguments(`The edit deletes changes of client ${client} the actor does not have`);
      }
    }
  }
  // What the edit may refer to: what the actor has, plus what the edit itself brings.
  const available = new Map(known);
  for (const [client, to] of meta.to) {
    if ((meta.from.get(client) ?? 0) <= (known.get(client) ?? 0)) available.set(client, Math.max(known.get(client) ?? 0, to));
  }
  const refers = (id: Y.ID | null) => {
    if (id !== null && id.clock >= (available.get(id.client) ?? 0)) {
      throw new InvalidArguments(`The edit refers to an item (${id.client}:${id.clock}) the actor does not have`);
    }
  };
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue;
    refers(struct.origin);
    refers(struct.rightOrigin);
    if (struct.parent instanceof Y.ID) refers(struct.parent);
    if (typeof struct.parent === "string" && struct.parent !== STATE_ROOT) {
      throw new InvalidArguments(`The edit writes outside the state ("${struct.parent}")`);
    }
    if (struct.parentSub === "__proto__") throw new InvalidArguments(`"__proto__" is not allowed as a state key`);
  }
}

/** True when the document holds parts of updates it could not integrate. */
export function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
}

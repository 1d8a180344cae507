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
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue;
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

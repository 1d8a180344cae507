/**
 * Checks a direct edit (a client's Yjs update) before the actor applies it: it must decode,
 * touch only the state root, use no `__proto__` keys, and depend only on what the actor
 * already has — Yjs would otherwise park it (and every later update of that client)
 * forever, waiting for clock ranges that will never come. It reads the update once and asks
 * the document for single clocks (`getState`): no state vector is built per edit.
 */
import * as Y from "yjs";
import { InvalidArguments } from "../../shared/errors.ts";
import { STATE_ROOT } from "../../shared/state/index.ts";

/**
 * Clock ranges an update brings, per client, read as `Y.parseUpdateMeta` reads them: a run of
 * structs of one client goes from its first clock to the end of its last struct.
 */
interface Ranges {
  readonly from: Map<number, number>;
  readonly to: Map<number, number>;
}

function rangesOf(structs: readonly (Y.Item | Y.GC | Y.Skip)[]): Ranges {
  const from = new Map<number, number>();
  const to = new Map<number, number>();
  let previous: number | null = null;
  for (const struct of structs) {
    const { client, clock } = struct.id;
    if (client !== previous && !from.has(client)) from.set(client, clock);
    previous = client;
    to.set(client, Math.max(to.get(client) ?? 0, clock + struct.length));
  }
  return { from, to };
}

/** What the edit may refer to of `client`: what the actor has, plus what the edit brings on top of it. */
function availableOf(doc: Y.Doc, ranges: Ranges, client: number): number {
  const known = Y.getState(doc.store, client);
  const from = ranges.from.get(client);
  return from !== undefined && from <= known ? Math.max(known, ranges.to.get(client)!) : known;
}

function checkRefers(doc: Y.Doc, ranges: Ranges, id: Y.ID | null): void {
  if (id !== null && id.clock >= availableOf(doc, ranges, id.client)) {
    throw new InvalidArguments(`The edit refers to an item (${id.client}:${id.clock}) the actor does not have`);
  }
}

/**
 * Checks the updates of one edit (edit frames a socket delivered back to back, applied in one
 * transaction, in order): each must decode, and together they may refer to what the actor has
 * plus what they bring.
 */
export function checkEditUpdates(doc: Y.Doc, updates: readonly Uint8Array[]): void {
  const structs: (Y.Item | Y.GC | Y.Skip)[] = [];
  const deleteSets: ReturnType<typeof Y.decodeUpdate>["ds"][] = [];
  for (const update of updates) {
    let decoded: ReturnType<typeof Y.decodeUpdate>;
    try {
      decoded = Y.decodeUpdate(update);
    } catch {
      throw new InvalidArguments("The edit is not a valid Yjs update");
    }
    for (const struct of decoded.structs) structs.push(struct);
    deleteSets.push(decoded.ds);
  }
  const ranges = rangesOf(structs);
  for (const [client, from] of ranges.from) {
    if (from > Y.getState(doc.store, client)) {
      throw new InvalidArguments(`The edit depends on changes of client ${client} the actor does not have (from clock ${from})`);
    }
  }
  // Deleting what the actor never had would park the delete set forever (Yjs pendingDs).
  // (Deletes of what the edit itself brings are refused too; a batch falls back to one by one.)
  for (const ds of deleteSets) {
    for (const [client, deletes] of ds.clients) {
      const have = Y.getState(doc.store, client);
      for (const item of deletes) {
        if (item.clock + item.len > have) {
          throw new InvalidArguments(`The edit deletes changes of client ${client} the actor does not have`);
        }
      }
    }
  }
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue;
    checkRefers(doc, ranges, struct.origin);
    checkRefers(doc, ranges, struct.rightOrigin);
    if (struct.parent instanceof Y.ID) checkRefers(doc, ranges, struct.parent);
    if (typeof struct.parent === "string" && struct.parent !== STATE_ROOT) {
      throw new InvalidArguments(`The edit writes outside the state ("${struct.parent}")`);
    }
    if (struct.parentSub === "__proto__") throw new InvalidArguments(`"__proto__" is not allowed as a state key`);
  }
}

/** One update's check (see checkEditUpdates). */
export function checkEditUpdate(doc: Y.Doc, update: Uint8Array): void {
  checkEditUpdates(doc, [update]);
}

/** True when the document holds parts of updates it could not integrate. */
export function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
}

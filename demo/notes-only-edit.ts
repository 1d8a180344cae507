/**
 * What a direct edit of a board may change: the notes text, nothing else. Todos change only
 * through actions (whose rules the server enforces), so `onEdit` refuses any edit that
 * would change them, add or remove a top-level field, or replace the notes text itself.
 *
 * An edit is a Yjs update; `onEdit` sees the state it would produce (`c.state`), not the
 * document, so the check has two parts:
 * - the update's new items may only be text (string content, or deleted text): no values,
 *   no new types — which rules out new fields, new todos and a new notes text at once;
 * - the todos it would produce must be the todos as they are (`todosNow`, kept by the actor
 *   after every change): a string item aimed at a todo's field, or a delete of a todo or one
 *   of its fields, changes them.
 */
import * as Y from "yjs";
import { Forbidden } from "tandem";

/** Yjs content kinds an editor's text edit is made of (`AbstractContent.getRef()`). */
const CONTENT_DELETED = 1;
const CONTENT_STRING = 4;

export interface BoardView {
  readonly notes: unknown;
  readonly todos: unknown;
}

/** A fingerprint of the todos: their JSON with keys sorted (a document rebuilt from storage may list a map's keys in another order). */
export function todosFingerprint(state: BoardView): string {
  return JSON.stringify(sortedKeys(JSON.parse(JSON.stringify(state.todos ?? null)) as unknown));
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== "object" || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortedKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/** Throws Forbidden unless `update`, producing `trial`, changes nothing but the notes text. */
export function assertNotesOnlyEdit(update: Uint8Array, trial: BoardView, todosNow: string | null): void {
  let structs: ReturnType<typeof Y.decodeUpdate>["structs"];
  try {
    structs = Y.decodeUpdate(update).structs;
  } catch {
    throw new Forbidden("Only the notes may be edited directly");
  }
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue; // GC and Skip structs carry no content
    const ref = struct.content.getRef();
    if (ref !== CONTENT_STRING && ref !== CONTENT_DELETED) throw new Forbidden("Only the notes text may be edited directly; todos change through actions");
  }
  const fields = Object.keys(trial).sort();
  if (fields.length !== 2 || fields[0] !== "notes" || fields[1] !== "todos") throw new Forbidden("Only the notes text may be edited directly");
  if (typeof trial.notes !== "object" || trial.notes === null) throw new Forbidden("The notes must stay a text");
  if (todosNow === null || todosFingerprint(trial) !== todosNow) throw new Forbidden("Todos change only through actions");
}

/**
 * State over one Yjs document per actor (README.md "Guarantees", atomic actions): drafts with buffered writes,
 * plain-JS views, and the conversion of results to plain data.
 */
import * as Y from "yjs";
import { Draft } from "./draft.ts";
import { nodeOfView } from "./view-registry.ts";
import { snapshot } from "./views.ts";

export { Draft } from "./draft.ts";
export { MAX_STATE_DEPTH, typeDepth } from "./depth.ts";
export { applyStoredUpdate } from "./stored-update.ts";
export { META_ROOT, isStateVersion, stateVersionOf, writeStateVersion } from "./state-version.ts";
export { TextView, XmlView, snapshot } from "./views.ts";

/** The name of the root map that holds an actor's state in its Y.Doc. */
export const STATE_ROOT = "state";

export function stateRoot(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>(STATE_ROOT);
}

/** The state of a document as plain JSON (what `toJSON()` of the root view gives). */
export function stateToJSON(doc: Y.Doc): Record<string, unknown> {
  const draft = new Draft(stateRoot(doc));
  const json = snapshot(draft.root) as Record<string, unknown>;
  draft.close();
  return json;
}

/**
 * Plain data for a value that may hold state views (an action's result, an event's
 * payload): every view becomes a snapshot, taken now.
 */
export function toPlain(value: unknown, depth = 0): unknown {
  if (typeof value !== "object" || value === null) return value;
  const node = nodeOfView(value);
  if (node !== undefined) return snapshot(node);
  if (depth > 64) return value;
  if (Array.isArray(value)) return value.map((item) => toPlain(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = toPlain(item, depth + 1);
  return out;
}

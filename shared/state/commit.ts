/**
 * Replaying a draft into its document. Runs inside the draft's single `transact`, so all of
 * an action's writes become one Yjs update. Values are converted at commit time, so a node
 * changed after it was inserted is written with its final content.
 */
import * as Y from "yjs";
import { ArrayNode, DELETED, type Entry, type FrozenValue, MapNode, TextNode, type TextOp, XmlNode } from "./nodes.ts";
import { isDeletedType } from "./values.ts";

export function applyNode(node: MapNode | ArrayNode | TextNode | XmlNode): void {
  if (node.base === null || isDeletedType(node.base)) return;
  if (node instanceof MapNode) applyMap(node, node.base as Y.Map<unknown>);
  else if (node instanceof ArrayNode) applyArray(node, node.base as Y.Array<unknown>);
  else if (node instanceof TextNode) applyTextOps(node.base as Y.Text, node.ops);
}

function applyMap(node: MapNode, base: Y.Map<unknown>): void {
  for (const [key, entry] of node.overrides) {
    if (entry === DELETED) {
      if (base.has(key)) base.delete(key);
      continue;
    }
    const current = base.get(key);
    if (current === entry && base.has(key)) continue; // an unchanged primitive: no new item
    base.set(key, toYValue(entry));
  }
}

function applyArray(node: ArrayNode, base: Y.Array<unknown>): void {
  for (const op of node.ops) {
    if (op.kind === "insert") base.insert(op.index, op.entries.map(toYValue) as never[]);
    else base.delete(op.index, op.length);
  }
}

function applyTextOps(text: Y.Text, ops: readonly TextOp[]): void {
  for (const op of ops) {
    if (op.kind === "insert") text.insert(op.index, op.text, op.attributes);
    else if (op.kind === "delete") text.delete(op.index, op.length);
    else text.format(op.index, op.length, op.attributes);
  }
}

/** The value to store in the document for a draft entry: a new Y type for every node. */
export function toYValue(entry: Entry): unknown {
  if (entry === null || typeof entry !== "object" || entry instanceof Uint8Array) return entry;
  if (entry instanceof MapNode) {
    const map = new Y.Map<unknown>();
    for (const key of entry.keys()) map.set(key, toYValue(entry.get(key)!));
    return map;
  }
  if (entry instanceof ArrayNode) {
    return Y.Array.from(entry.entries().map(toYValue) as never[]);
  }
  if (entry instanceof TextNode) {
    if (entry.base !== null) {
      const copy = entry.base.clone();
      applyTextOps(copy, entry.ops);
      return copy;
    }
    const text = entry.template !== null ? entry.template.clone() : new Y.Text();
    applyTextOps(text, entry.ops);
    return text;
  }
  if (entry instanceof XmlNode) {
    const source = entry.base ?? entry.template;
    return source !== null ? source.clone() : new Y.XmlFragment();
  }
  return (entry as FrozenValue).frozen;
}

/**
 * How deep state may nest. A container (object, array, text, XML fragment) sits one level
 * below the one holding it, the root object at depth 0. Yjs writes and reads nested types
 * recursively, so a value nested thousands of levels overflows the stack — inside the
 * transaction that writes it, or at every later read. A draft checks its writes against
 * this limit before its commit touches the document (Draft.check), without recursion.
 */
import * as Y from "yjs";
import { InvalidState } from "../errors.ts";
import { ArrayNode, DELETED, type Entry, type FrozenValue, MapNode, TextNode, XmlNode } from "./nodes.ts";

/** Deepest a container may sit below the root object (which is at depth 0). */
export const MAX_STATE_DEPTH = 128;

/** The depth of a type of the document (the root map: 0). */
export function typeDepth(type: Y.AbstractType<unknown>): number {
  let depth = 0;
  let item = type._item;
  while (item !== null) {
    depth++;
    item = (item.parent as Y.AbstractType<unknown>)._item;
  }
  return depth;
}

type AnyNode = MapNode | ArrayNode | TextNode | XmlNode;

/** Throws `InvalidState` if writing these nodes would nest the state deeper than MAX_STATE_DEPTH. */
export function checkWriteDepth(nodes: Iterable<AnyNode>): void {
  for (const node of nodes) {
    if (node.base === null) continue;
    const depth = typeDepth(node.base as Y.AbstractType<unknown>);
    const stack: [unknown, number][] = [];
    if (node instanceof MapNode) for (const entry of node.overrides.values()) stack.push([entry, depth]);
    else if (node instanceof ArrayNode) for (const op of node.ops) if (op.kind === "insert") for (const entry of op.entries) stack.push([entry, depth]);
    while (stack.length > 0) {
      const [entry, parentDepth] = stack.pop()!;
      const children = childrenOf(entry as Entry | typeof DELETED);
      if (children === null) continue;
      const at = parentDepth + 1;
      if (at > MAX_STATE_DEPTH) throw new InvalidState(`State may nest at most ${MAX_STATE_DEPTH} levels deep`);
      for (const child of children) stack.push([child, at]);
    }
  }
}

/** What a written entry holds one level down (null: it is not a container). */
function childrenOf(entry: Entry | typeof DELETED): Iterable<unknown> | null {
  if (entry === DELETED || entry === null || typeof entry !== "object" || entry instanceof Uint8Array) return null;
  if (entry instanceof MapNode) return entry.base === null ? entry.overrides.values() : [];
  if (entry instanceof ArrayNode) return entry.base === null ? (entry.items ?? []) : [];
  if (entry instanceof TextNode || entry instanceof XmlNode) return [];
  return frozenChildren((entry as FrozenValue).frozen);
}

/** A value stored as-is (Yjs `ContentAny`): its members are nested too. */
function frozenChildren(value: unknown): Iterable<unknown> | null {
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return null;
  return (Array.isArray(value) ? value : Object.values(value)).map((member) => ({ frozen: member }));
}

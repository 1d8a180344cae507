/** Which overlay node a view stands for, so that writing a view somewhere copies its node. */
import type { ArrayNode, MapNode, TextNode, XmlNode } from "./nodes.ts";

type AnyNode = MapNode | ArrayNode | TextNode | XmlNode;

const viewNodes = new WeakMap<object, AnyNode>();

export function registerView(view: object, node: AnyNode): void {
  viewNodes.set(view, node);
}

export function nodeOfView(value: unknown): AnyNode | undefined {
  return typeof value === "object" && value !== null ? viewNodes.get(value) : undefined;
}

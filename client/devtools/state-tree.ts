/**
 * A value as a collapsible tree (nested <details>), bounded: at most MAX_DEPTH levels, at
 * most MAX_CHILDREN children per node, strings cut at MAX_STRING characters. Text only
 * (textContent): state written by anyone shows as text, never as markup.
 */
export const MAX_DEPTH = 12;
export const MAX_CHILDREN = 100;
export const MAX_STRING = 200;

/** Open nodes by path, kept across renders (the panel re-renders the whole tree). */
export type OpenPaths = Set<string>;

export function stateTree(doc: Document, value: unknown, open: OpenPaths, path = "$", depth = 0): HTMLElement {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) {
    const leaf = doc.createElement("span");
    leaf.className = `tdt-leaf tdt-${leafKind(value)}`;
    leaf.textContent = leafText(value);
    return leaf;
  }
  const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value as Record<string, unknown>);
  const node = doc.createElement("details");
  node.className = "tdt-node";
  node.dataset.path = path;
  node.open = depth === 0 || open.has(path);
  node.addEventListener("toggle", () => {
    if (node.open) open.add(path);
    else open.delete(path);
  });
  const summary = doc.createElement("summary");
  summary.textContent = Array.isArray(value) ? `Array(${entries.length})` : `{${entries.length}}`;
  node.append(summary);
  if (depth >= MAX_DEPTH) {
    node.append(note(doc, "… deeper levels not shown"));
    return node;
  }
  const list = doc.createElement("ul");
  for (const [key, child] of entries.slice(0, MAX_CHILDREN)) {
    const item = doc.createElement("li");
    const name = doc.createElement("span");
    name.className = "tdt-key";
    name.textContent = `${cut(key)}: `;
    item.append(name, stateTree(doc, child, open, `${path}.${key}`, depth + 1));
    list.append(item);
  }
  node.append(list);
  if (entries.length > MAX_CHILDREN) node.append(note(doc, `… ${entries.length - MAX_CHILDREN} more`));
  return node;
}

function leafKind(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof Uint8Array) return "bytes";
  return typeof value;
}

function leafText(value: unknown): string {
  if (value instanceof Uint8Array) return `Uint8Array(${value.byteLength} bytes)`;
  if (typeof value === "string") return JSON.stringify(cut(value));
  if (typeof value === "bigint") return `${value}n`;
  if (value === undefined) return "undefined";
  return String(value);
}

function cut(text: string): string {
  return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
}

function note(doc: Document, text: string): HTMLElement {
  const element = doc.createElement("div");
  element.className = "tdt-note";
  element.textContent = text;
  return element;
}

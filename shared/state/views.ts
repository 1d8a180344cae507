/**
 * The plain-JS face of a draft: objects and arrays are Proxies over overlay nodes, texts are
 * small objects with the Y.Text editing methods. Reads are live (they go through the draft's
 * writes to the document); `toJSON()` gives a snapshot; writes are recorded in the draft.
 */
import { InvalidState } from "../errors.ts";
import { registerView } from "./view-registry.ts";
import { ArrayNode, type Entry, type FrozenValue, MapNode, type TextAttributes, TextNode, XmlNode } from "./nodes.ts";
import { checkKey } from "./values.ts";

type AnyNode = MapNode | ArrayNode | TextNode | XmlNode;

/** The value user code sees for a draft entry. */
export function viewOfEntry(entry: Entry): unknown {
  if (entry === null || typeof entry !== "object" || entry instanceof Uint8Array) return entry;
  if (entry instanceof MapNode || entry instanceof ArrayNode || entry instanceof TextNode || entry instanceof XmlNode) {
    return viewOf(entry);
  }
  return (entry as FrozenValue).frozen;
}

export function viewOf(node: AnyNode): object {
  if (node.view !== undefined) return node.view;
  let view: object;
  if (node instanceof MapNode) view = new Proxy(new MapTarget(node), mapHandler);
  else if (node instanceof ArrayNode) view = new Proxy(arrayTarget(node), arrayHandler);
  else if (node instanceof TextNode) view = new TextView(node);
  else view = new XmlView(node);
  node.view = view;
  registerView(view, node);
  return view;
}

/** A deep plain copy of an entry: objects, arrays, strings for texts. */
export function snapshot(entry: Entry | undefined): unknown {
  if (entry === undefined) return undefined;
  if (entry === null || typeof entry !== "object") return entry;
  if (entry instanceof Uint8Array) return entry.slice();
  if (entry instanceof MapNode) {
    const out: Record<string, unknown> = {};
    for (const key of entry.keys()) {
      if (key === "__proto__") continue; // never let a peer's key reach a prototype
      out[key] = snapshot(entry.get(key));
    }
    return out;
  }
  if (entry instanceof ArrayNode) return entry.entries().map(snapshot);
  if (entry instanceof TextNode || entry instanceof XmlNode) return entry.toString();
  return (entry as FrozenValue).frozen;
}

// ---------------------------------------------------------------------------------------
// Objects

class MapTarget {
  constructor(readonly node: MapNode) {}
}

function write(node: AnyNode, value: unknown, where: string): Entry {
  return node.draft.fromPlain(value, where);
}

const mapHandler: ProxyHandler<MapTarget> = {
  get({ node }, prop) {
    if (typeof prop === "symbol") return prop === Symbol.toStringTag ? "Object" : undefined;
    if (prop === "toJSON") return () => snapshot(node);
    const entry = node.get(prop);
    return entry === undefined ? undefined : viewOfEntry(entry);
  },
  set({ node }, prop, value) {
    const key = checkKey(prop, "object key");
    if (value === undefined) node.delete(key);
    else node.set(key, write(node, value, key));
    return true;
  },
  deleteProperty({ node }, prop) {
    node.delete(checkKey(prop, "object key"));
    return true;
  },
  has({ node }, prop) {
    return typeof prop === "string" && node.has(prop);
  },
  ownKeys({ node }) {
    return node.keys();
  },
  getOwnPropertyDescriptor({ node }, prop) {
    if (typeof prop !== "string" || !node.has(prop)) return undefined;
    return { value: viewOfEntry(node.get(prop)!), writable: true, enumerable: true, configurable: true };
  },
  defineProperty({ node }, prop, descriptor) {
    if (!("value" in descriptor)) throw new InvalidState("State objects take plain values, not accessors");
    const key = checkKey(prop, "object key");
    node.set(key, write(node, descriptor.value, key));
    return true;
  },
  getPrototypeOf() {
    return Object.prototype;
  },
  setPrototypeOf() {
    throw new InvalidState("The prototype of a state object cannot be changed");
  },
  preventExtensions() {
    throw new InvalidState("State objects cannot be frozen or sealed");
  },
};

// ---------------------------------------------------------------------------------------
// Arrays

const NODE: unique symbol = Symbol("tandem.node");
type ArrayTarget = unknown[] & { [NODE]: ArrayNode };

function arrayTarget(node: ArrayNode): ArrayTarget {
  const target = [] as unknown as ArrayTarget;
  Object.defineProperty(target, NODE, { value: node, configurable: true });
  return target;
}

function toIndex(prop: string): number | null {
  if (prop.length === 0 || prop.length > 10) return null;
  const index = Number(prop);
  return Number.isInteger(index) && index >= 0 && String(index) === prop ? index : null;
}

function relative(value: unknown, length: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Math.trunc(Number(value)) || 0;
  return n < 0 ? Math.max(length + n, 0) : Math.min(n, length);
}

/** Replaces all elements (sort, reverse, fill…): the new order, written as one rewrite. */
function rewrite(node: ArrayNode, views: unknown[]): void {
  const entries = views.map((view, i) => write(node, view, `[${i}]`));
  node.delete(0, node.length);
  node.insert(0, entries);
}

function currentViews(node: ArrayNode): unknown[] {
  return node.entries().map(viewOfEntry);
}

const arrayMutators: Record<string, (node: ArrayNode, proxy: unknown, ...args: unknown[]) => unknown> = {
  push(node, _proxy, ...items) {
    node.insert(node.length, items.map((item, i) => write(node, item, `[${node.length + i}]`)));
    return node.length;
  },
  pop(node) {
    if (node.length === 0) return undefined;
    const last = viewOfEntry(node.get(node.length - 1)!);
    node.delete(node.length - 1, 1);
    return last;
  },
  shift(node) {
    if (node.length === 0) return undefined;
    const first = viewOfEntry(node.get(0)!);
    node.delete(0, 1);
    return first;
  },
  unshift(node, _proxy, ...items) {
    node.insert(0, items.map((item, i) => write(node, item, `[${i}]`)));
    return node.length;
  },
  splice(node, _proxy, ...args) {
    const length = node.length;
    const start = relative(args[0], length, 0);
    const count =
      args.length === 0 ? 0 : args.length === 1 ? length - start : Math.min(Math.max(Math.trunc(Number(args[1])) || 0, 0), length - start);
    const removed = [];
    for (let i = start; i < start + count; i++) removed.push(viewOfEntry(node.get(i)!));
    const inserted = args.slice(2).map((item, i) => write(node, item, `[${start + i}]`));
    node.delete(start, count);
    node.insert(start, inserted);
    return removed;
  },
  sort(node, proxy, compare) {
    const views = currentViews(node);
    views.sort(compare as ((a: unknown, b: unknown) => number) | undefined);
    rewrite(node, views);
    return proxy;
  },
  reverse(node, proxy) {
    rewrite(node, currentViews(node).reverse());
    return proxy;
  },
  fill(node, proxy, value, start, end) {
    rewrite(node, currentViews(node).fill(value, start as number | undefined, end as number | undefined));
    return proxy;
  },
  copyWithin(node, proxy, target, start, end) {
    rewrite(node, currentViews(node).copyWithin(target as number, start as number, end as number | undefined));
    return proxy;
  },
};

function setIndex(node: ArrayNode, index: number, value: unknown): void {
  if (index > node.length) {
    throw new InvalidState(`Cannot write index ${index} of an array of length ${node.length}: arrays in state have no holes`);
  }
  const entry = write(node, value === undefined ? null : value, `[${index}]`);
  if (index < node.length) node.delete(index, 1);
  node.insert(index, [entry]);
}

const arrayHandler: ProxyHandler<ArrayTarget> = {
  get(target, prop, receiver) {
    const node = target[NODE];
    if (typeof prop === "symbol") {
      if (prop === Symbol.iterator) return () => currentViews(node)[Symbol.iterator]();
      if (prop === NODE) return node;
      return undefined;
    }
    const index = toIndex(prop);
    if (index !== null) {
      const entry = node.get(index);
      return entry === undefined ? undefined : viewOfEntry(entry);
    }
    if (prop === "length") return node.length;
    if (prop === "toJSON") return () => snapshot(node);
    const mutator = arrayMutators[prop];
    if (mutator) return (...args: unknown[]) => mutator(node, receiver, ...args);
    const method = (Array.prototype as unknown as Record<string, unknown>)[prop];
    if (typeof method === "function") {
      return (...args: unknown[]) => (method as (...a: unknown[]) => unknown).apply(currentViews(node), args);
    }
    return undefined;
  },
  set(target, prop, value) {
    const node = target[NODE];
    if (typeof prop === "string") {
      const index = toIndex(prop);
      if (index !== null) {
        setIndex(node, index, value);
        return true;
      }
      if (prop === "length") {
        const length = Number(value);
        if (!Number.isInteger(length) || length < 0 || length > node.length) {
          throw new InvalidState("An array in state can only be shortened through its length");
        }
        node.delete(length, node.length - length);
        return true;
      }
    }
    throw new InvalidState(`Arrays in state hold elements only; cannot set "${String(prop)}"`);
  },
  deleteProperty(_target, prop) {
    throw new InvalidState(`Arrays in state have no holes: use splice instead of delete [${String(prop)}]`);
  },
  has(target, prop) {
    if (typeof prop !== "string") return prop === Symbol.iterator;
    const index = toIndex(prop);
    if (index !== null) return index < target[NODE].length;
    return prop === "length" || prop in Array.prototype;
  },
  ownKeys(target) {
    const keys: string[] = [];
    for (let i = 0; i < target[NODE].length; i++) keys.push(String(i));
    keys.push("length");
    return keys;
  },
  getOwnPropertyDescriptor(target, prop) {
    const node = target[NODE];
    if (prop === "length") return { value: node.length, writable: true, enumerable: false, configurable: false };
    if (typeof prop !== "string") return undefined;
    const index = toIndex(prop);
    if (index === null || index >= node.length) return undefined;
    return { value: viewOfEntry(node.get(index)!), writable: true, enumerable: true, configurable: true };
  },
  defineProperty() {
    throw new InvalidState("Arrays in state are changed through their methods and indexes");
  },
  getPrototypeOf() {
    return Array.prototype;
  },
  setPrototypeOf() {
    throw new InvalidState("The prototype of a state array cannot be changed");
  },
  preventExtensions() {
    throw new InvalidState("State arrays cannot be frozen or sealed");
  },
};

// ---------------------------------------------------------------------------------------
// Texts

function checkRange(node: TextNode, index: unknown, length: unknown): void {
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) > node.length) {
    throw new InvalidState(`Text index ${String(index)} is outside 0..${node.length}`);
  }
  if (length !== undefined && (!Number.isInteger(length) || (length as number) < 0)) {
    throw new InvalidState(`Text length must be a non-negative integer, got ${String(length)}`);
  }
}

/** The draft face of a Y.Text: the editing methods of Y.Text, recorded in the draft. */
export class TextView {
  constructor(private readonly node: TextNode) {}

  get length(): number {
    return this.node.length;
  }

  insert(index: number, text: string, attributes?: TextAttributes): void {
    checkRange(this.node, index, undefined);
    if (typeof text !== "string") throw new InvalidState("Text.insert takes a string");
    this.node.insert(index, text, attributes);
  }

  delete(index: number, length: number): void {
    checkRange(this.node, index, length);
    this.node.delete(index, Math.min(length, this.node.length - index));
  }

  format(index: number, length: number, attributes: TextAttributes): void {
    checkRange(this.node, index, length);
    this.node.format(index, Math.min(length, this.node.length - index), attributes);
  }

  toString(): string {
    return this.node.toString();
  }

  toJSON(): string {
    return this.node.toString();
  }
}

/** The draft face of a Y.XmlFragment: readable; edited by editor bindings on a replica. */
export class XmlView {
  constructor(private readonly node: XmlNode) {}

  toString(): string {
    return this.node.toString();
  }

  toJSON(): string {
    return this.node.toString();
  }
}

/**
 * What may live in actor state, checked where a value enters it. State is JSON-like: null,
 * booleans, finite numbers, strings, byte arrays, plain objects and arrays, plus `Y.Text` /
 * `Y.XmlFragment` for editors. Anything else is refused with a clear `InvalidState` error
 * before it can reach the document.
 */
import * as Y from "yjs";
import { InvalidState } from "../errors.ts";

export type Primitive = null | boolean | number | string;

/** Map keys that would reach an object's prototype when the state is turned into JSON. */
const FORBIDDEN_KEYS = new Set(["__proto__"]);

export function checkKey(key: PropertyKey, where: string): string {
  if (typeof key !== "string") {
    throw new InvalidState(`State keys must be strings (at ${where})`);
  }
  if (FORBIDDEN_KEYS.has(key)) {
    throw new InvalidState(`"${key}" is not allowed as a state key (at ${where})`);
  }
  return key;
}

export function isPrimitive(value: unknown): value is Primitive {
  return value === null || typeof value === "string" || typeof value === "boolean" || typeof value === "number";
}

export function checkPrimitive(value: Primitive, where: string): Primitive {
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new InvalidState(`State numbers must be finite, got ${value} (at ${where})`);
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return "a bigint";
  if (typeof value === "symbol") return "a symbol";
  if (typeof value === "object" && value !== null) return `an instance of ${value.constructor?.name ?? "an unknown class"}`;
  return typeof value;
}

export function unsupported(value: unknown, where: string): never {
  throw new InvalidState(
    `Actor state holds JSON-like values, Uint8Array, Y.Text and Y.XmlFragment; got ${describe(value)} (at ${where})`,
  );
}

/** True when a Y type, or any type above it, has been deleted from its document. */
export function isDeletedType(type: Y.AbstractType<any>): boolean {
  let item = type._item;
  while (item !== null) {
    if (item.deleted) return true;
    item = (item.parent as Y.AbstractType<any>)._item;
  }
  return false;
}

/** A deep, frozen copy of a JSON value stored as-is in the doc (Yjs `ContentAny`). */
export function frozenCopy<T>(value: T): T {
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return value;
  const copy: unknown = Array.isArray(value)
    ? value.map(frozenCopy)
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, frozenCopy(v)]));
  return Object.freeze(copy) as T;
}

/**
 * Prelim (not yet integrated) Yjs types used as templates, e.g. `state: { notes: new Y.Text("hi") }`,
 * are integrated into a document of their own so their content can be read and copied into
 * every actor created from the template. That document lives as long as the template does.
 */
export function asTemplate<T extends Y.AbstractType<any>>(type: T): T {
  if (type.doc === null) new Y.Doc().getMap<T>("template").set("template", type);
  return type;
}

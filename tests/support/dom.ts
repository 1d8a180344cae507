/**
 * A jsdom page for React tests in Node, as globals (window, document, the DOM classes).
 * Import it first, before react-dom (which looks for a DOM when it loads).
 *
 * Not vitest's jsdom environment: the jsdom installed (31) wants Node ≥ 22 and fails to load
 * on Node 20, reaching for three things Node 20 lacks — `zlib.createZstdDecompress` and
 * `worker_threads.markAsUncloneable` (undici, at load) and the `Iterator` global with its
 * helpers (jsdom's tree walkers) — and vitest's environment comment takes no path to a
 * custom one. Each is added here only where it is missing (nothing on Node ≥ 22). Nothing of
 * them is used at run time: no zstd bodies, nothing cloned across threads.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

function fillNode20Gaps(): void {
  const zlib = require("node:zlib") as Record<string, unknown>;
  zlib.createZstdDecompress ??= () => {
    throw new Error("zstd is not available on this Node version");
  };
  const threads = require("node:worker_threads") as Record<string, unknown>;
  threads.markAsUncloneable ??= () => {};
  if ((globalThis as { Iterator?: unknown }).Iterator === undefined) installIteratorHelpers();
}

/** The `Iterator` global and the iterator helpers (ES2025), over %IteratorPrototype%. */
function installIteratorHelpers(): void {
  const proto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as Iterable<unknown>;
  type Fn = (value: unknown, index: number) => unknown;
  const helpers: Record<string, (this: Iterable<unknown>, ...args: never[]) => unknown> = {
    *map(f: Fn) {
      let i = 0;
      for (const v of this) yield f(v, i++);
    },
    *filter(f: Fn) {
      let i = 0;
      for (const v of this) if (f(v, i++)) yield v;
    },
    *take(n: number) {
      if (n <= 0) return;
      let i = 0;
      for (const v of this) {
        yield v;
        if (++i >= n) return;
      }
    },
    *drop(n: number) {
      let i = 0;
      for (const v of this) if (i++ >= n) yield v;
    },
    *flatMap(f: (value: unknown, index: number) => Iterable<unknown>) {
      let i = 0;
      for (const v of this) yield* f(v, i++);
    },
    reduce(f: (acc: unknown, value: unknown, index: number) => unknown, ...init: unknown[]) {
      let acc = init[0];
      let first = init.length === 0;
      let i = 0;
      for (const v of this) {
        if (first) {
          acc = v;
          first = false;
        } else acc = f(acc, v, i);
        i++;
      }
      return acc;
    },
    toArray() {
      return [...this];
    },
    forEach(f: Fn) {
      let i = 0;
      for (const v of this) f(v, i++);
    },
    some(f: Fn) {
      let i = 0;
      for (const v of this) if (f(v, i++)) return true;
      return false;
    },
    every(f: Fn) {
      let i = 0;
      for (const v of this) if (!f(v, i++)) return false;
      return true;
    },
    find(f: Fn) {
      let i = 0;
      for (const v of this) if (f(v, i++)) return v;
      return undefined;
    },
  };
  for (const [name, fn] of Object.entries(helpers)) Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true });
  function Iterator(): void {}
  Iterator.prototype = proto;
  Object.defineProperty(globalThis, "Iterator", { value: Iterator, writable: true, configurable: true });
}

fillNode20Gaps();
/** What this file uses of jsdom (it ships no types, and @types/jsdom is not installed). */
interface JsdomModule {
  JSDOM: new (html: string, options: { url: string; pretendToBeVisual: boolean }) => { readonly window: Window & typeof globalThis };
}
const { JSDOM } = require("jsdom") as JsdomModule;

/** The page every test of the file shares. */
export const dom = new JSDOM("<!doctype html><html><body></body></html>", { url: "http://127.0.0.1/", pretendToBeVisual: true });

// The window's names as globals, as a browser has them — except those Node has already
// (timers, fetch, URL…) and the WebSocket: the client's sockets are Node's (`ws`), which a
// server refuses no Origin from.
const window = dom.window as unknown as Record<string, unknown>;
const SKIP = new Set(["WebSocket", "undefined", "globalThis"]);
for (const name of Object.getOwnPropertyNames(window)) {
  if (SKIP.has(name) || name in globalThis) continue;
  Object.defineProperty(globalThis, name, { value: window[name], writable: true, configurable: true });
}
for (const name of ["window", "self", "document", "navigator"]) Object.defineProperty(globalThis, name, { value: name === "window" || name === "self" ? dom.window : window[name], writable: true, configurable: true });

/**
 * A jsdom page for React tests in Node, as globals (window, document, the DOM classes).
 * Import it first, before react-dom (which looks for a DOM when it loads).
 *
 * jsdom is pinned to 26 (jsdom 27 and later want Node ≥ 22; we test on Node 20).
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

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

/**
 * The version of an actor's state shape (`actor({ version, migrate })`), kept in its document
 * beside the state: a root map `tandem` with `stateVersion`, written by the server only (a
 * client's direct edit may not write outside the state root: edit-check.ts). It travels with
 * the document — in storage, in every sync, in a replica's IndexedDB copy — and changes in
 * the same transaction as the migration that moves the state to it, so a replica holds a
 * version and the state of that version together. A document without one is version 1.
 */
import type * as Y from "yjs";

/** The root map of Tandem's own entries in an actor's document. */
export const META_ROOT = "tandem";
const VERSION_KEY = "stateVersion";

/** The state version a document holds (1 when it says none). */
export function stateVersionOf(doc: Y.Doc): number {
  if (!doc.share.has(META_ROOT)) return 1;
  const version = doc.getMap(META_ROOT).get(VERSION_KEY);
  return typeof version === "number" && Number.isSafeInteger(version) && version >= 1 ? version : 1;
}

/** Records `version` in the document (inside the caller's transaction). */
export function writeStateVersion(doc: Y.Doc, version: number): void {
  doc.getMap(META_ROOT).set(VERSION_KEY, version);
}

/** Whether `version` is one an actor may declare: an integer from 1. */
export function isStateVersion(version: unknown): version is number {
  return typeof version === "number" && Number.isSafeInteger(version) && version >= 1;
}

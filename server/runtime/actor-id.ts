/**
 * Actor ids: derived from (name, key) by hashing their injective encoding, so an id names
 * exactly one actor and can be computed by any server node without a lookup.
 */
import { createHash } from "node:crypto";
import { encodeKey } from "../../shared/key.ts";

export function actorId(name: string, key: readonly string[]): string {
  return createHash("sha256").update(encodeKey([name, ...key])).digest("base64url").slice(0, 32);
}

const ID = /^[A-Za-z0-9_-]{32}$/;

export function isActorId(value: unknown): value is string {
  return typeof value === "string" && ID.test(value);
}

/**
 * Event frame bodies, encoded once per broadcast: the actor hands the same payload object
 * to every connection, so the last encoding is kept and reused while it is the same event.
 */
import * as encoding from "lib0/encoding";
import { writeValue } from "../../shared/protocol/value.ts";

let lastName: string | null = null;
let lastPayload: unknown = undefined;
let lastBody: Uint8Array | null = null;

export function encodeEventBody(name: string, payload: unknown): Uint8Array {
  if (lastBody !== null && name === lastName && payload === lastPayload && typeof payload === "object" && payload !== null) return lastBody;
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, name);
  writeValue(encoder, payload);
  lastName = name;
  lastPayload = payload;
  lastBody = encoding.toUint8Array(encoder);
  return lastBody;
}

/** auth (up, protocol 3): new params for a subscribed channel (a token refresh); the server re-runs onAuth. */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { Kind } from "./kinds.ts";
import { readUint, readValue, writeValue } from "./value.ts";

export interface Auth {
  readonly kind: typeof Kind.auth;
  readonly channel: number;
  /** Answered by the authResult of the same id. */
  readonly id: number;
  readonly params: unknown;
}

export function encodeAuth(encoder: encoding.Encoder, m: Auth): void {
  encoding.writeVarUint(encoder, m.id);
  writeValue(encoder, m.params);
}

export function decodeAuth(decoder: decoding.Decoder, channel: number): Auth {
  return { kind: Kind.auth, channel, id: readUint(decoder), params: readValue(decoder) };
}

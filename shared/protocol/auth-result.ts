/**
 * authResult (down, protocol 3): the answer to an auth frame. Refused: the channel is closed
 * too (an `unsubscribed` with the same error follows).
 */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import type { WireError } from "../errors.ts";
import { Kind } from "./kinds.ts";
import { readByte, readUint } from "./value.ts";
import { readWireError, writeWireError } from "./wire-error.ts";

export type AuthResult = {
  readonly kind: typeof Kind.authResult;
  readonly channel: number;
  readonly id: number;
} & ({ readonly ok: true } | { readonly ok: false; readonly error: WireError });

export function encodeAuthResult(encoder: encoding.Encoder, m: AuthResult): void {
  encoding.writeVarUint(encoder, m.id);
  encoding.writeUint8(encoder, m.ok ? 1 : 0);
  if (!m.ok) writeWireError(encoder, m.error);
}

export function decodeAuthResult(decoder: decoding.Decoder, channel: number): AuthResult {
  const id = readUint(decoder);
  if (readByte(decoder) === 1) return { kind: Kind.authResult, channel, id, ok: true };
  return { kind: Kind.authResult, channel, id, ok: false, error: readWireError(decoder) };
}

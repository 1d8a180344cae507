/** editResult (down): every edit is answered — accepted, or rejected with an error. */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import type { WireError } from "../errors.ts";
import { Kind } from "./kinds.ts";
import { readByte, readUint } from "./value.ts";
import { readWireError, writeWireError } from "./wire-error.ts";

export type EditResult = {
  readonly kind: typeof Kind.editResult;
  readonly channel: number;
  readonly id: number;
} & ({ readonly ok: true } | { readonly ok: false; readonly error: WireError });

export function encodeEditResult(encoder: encoding.Encoder, m: EditResult): void {
  encoding.writeVarUint(encoder, m.id);
  encoding.writeUint8(encoder, m.ok ? 1 : 0);
  if (!m.ok) writeWireError(encoder, m.error);
}

export function decodeEditResult(decoder: decoding.Decoder, channel: number): EditResult {
  const id = readUint(decoder);
  if (readByte(decoder) === 1) return { kind: Kind.editResult, channel, id, ok: true };
  return { kind: Kind.editResult, channel, id, ok: false, error: readWireError(decoder) };
}

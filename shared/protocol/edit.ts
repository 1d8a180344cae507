/** edit (up): a direct update of the replica (an editor binding); answered by editResult. */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { Kind } from "./kinds.ts";
import { readBytes, readUint } from "./value.ts";

export interface Edit {
  readonly kind: typeof Kind.edit;
  readonly channel: number;
  readonly id: number;
  readonly update: Uint8Array;
}

export function encodeEdit(encoder: encoding.Encoder, m: Edit): void {
  encoding.writeVarUint(encoder, m.id);
  encoding.writeVarUint8Array(encoder, m.update);
}

export function decodeEdit(decoder: decoding.Decoder, channel: number): Edit {
  return { kind: Kind.edit, channel, id: readUint(decoder), update: readBytes(decoder) };
}

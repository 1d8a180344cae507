/**
 * ack (down): the outcome of an action — its result or its error — together with the Yjs
 * update the action produced, so the client applies state and result in one step.
 */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import type { WireError } from "../errors.ts";
import { Kind } from "./kinds.ts";
import { readByte, readBytes, readUint, readValue, writeValue } from "./value.ts";
import { readWireError, writeWireError } from "./wire-error.ts";

export type Ack = {
  readonly kind: typeof Kind.ack;
  readonly channel: number;
  readonly id: number;
  /** The action's update (empty when it changed nothing). */
  readonly update: Uint8Array;
} & ({ readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: WireError });

export function encodeAck(encoder: encoding.Encoder, m: Ack): void {
  encoding.writeVarUint(encoder, m.id);
  encoding.writeUint8(encoder, m.ok ? 1 : 0);
  if (m.ok) writeValue(encoder, m.result);
  else writeWireError(encoder, m.error);
  encoding.writeVarUint8Array(encoder, m.update);
}

export function decodeAck(decoder: decoding.Decoder, channel: number): Ack {
  const id = readUint(decoder);
  if (readByte(decoder) === 1) {
    const result = readValue(decoder);
    return { kind: Kind.ack, channel, id, ok: true, result, update: readBytes(decoder) };
  }
  const error = readWireError(decoder);
  return { kind: Kind.ack, channel, id, ok: false, error, update: readBytes(decoder) };
}

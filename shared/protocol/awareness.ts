/** awareness (both ways): a y-protocols awareness update (presence: cursors, who is here). */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { Kind } from "./kinds.ts";
import { readBytes } from "./value.ts";

export interface AwarenessFrame {
  readonly kind: typeof Kind.awareness;
  readonly channel: number;
  readonly update: Uint8Array;
}

export function encodeAwareness(encoder: encoding.Encoder, m: AwarenessFrame): void {
  encoding.writeVarUint8Array(encoder, m.update);
}

export function decodeAwareness(decoder: decoding.Decoder, channel: number): AwarenessFrame {
  return { kind: Kind.awareness, channel, update: readBytes(decoder) };
}

/** The body of an awareness frame carrying `update`, for frames built once and sent to many. */
export function awarenessBody(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

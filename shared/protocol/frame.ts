/**
 * Frame envelope: `[kind varuint][channel varuint][payload]`. Decoding copies the bytes
 * into a buffer of their own first (ws hands out slices of pooled buffers) unless the caller
 * already owns them, and insists the payload is consumed exactly: trailing bytes are
 * malformed.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { MalformedFrame } from "./errors.ts";
import { readUint } from "./value.ts";

export interface FrameHeader {
  readonly kind: number;
  readonly channel: number;
}

export function encodeFrame(kind: number, channel: number, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, kind);
  encoding.writeVarUint(encoder, channel);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

export function decodeFrame<T>(bytes: Uint8Array, read: (header: FrameHeader, decoder: decoding.Decoder) => T, owned = false): T {
  const decoder = decoding.createDecoder(owned ? bytes : new Uint8Array(bytes));
  let message: T;
  try {
    const kind = readUint(decoder);
    const channel = readUint(decoder);
    message = read({ kind, channel }, decoder);
  } catch (error) {
    if (error instanceof MalformedFrame) throw error;
    throw new MalformedFrame(error instanceof Error ? error.message : String(error));
  }
  if (decoder.pos !== decoder.arr.length) throw new MalformedFrame(`${decoder.arr.length - decoder.pos} trailing bytes`);
  return message;
}

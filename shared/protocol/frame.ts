/**
 * Frame envelope: `[kind varuint][channel varuint][payload]`. Decoding copies a small
 * frame into a buffer of its own first (ws hands out slices of larger buffers) unless the
 * caller already owns it, and insists the payload is consumed exactly: trailing bytes are
 * malformed.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { malformedFrame, MalformedFrame } from "./errors.ts";
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

/**
 * Frames at least this large are read in place rather than copied: the buffer ws hands out
 * for them is their own or mostly theirs (a slice of one socket read), so holding on to it
 * costs little, while copying a whole document's sync frame costs a copy per client.
 */
const COPY_BELOW = 16 * 1024;

/** The bytes as a buffer of their own (a copy), or in place when large (see COPY_BELOW). */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength < COPY_BELOW ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeFrame<T>(bytes: Uint8Array, read: (header: FrameHeader, decoder: decoding.Decoder) => T, owned = false): T {
  const decoder = decoding.createDecoder(owned ? bytes : ownBytes(bytes));
  let message: T;
  try {
    const kind = readUint(decoder);
    const channel = readUint(decoder);
    message = read({ kind, channel }, decoder);
  } catch (error) {
    if (error instanceof MalformedFrame) throw error;
    throw malformedFrame(error instanceof Error ? error.message : String(error));
  }
  if (decoder.pos !== decoder.arr.length) throw malformedFrame(`${decoder.arr.length - decoder.pos} trailing bytes`);
  return message;
}

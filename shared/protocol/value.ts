/**
 * Values inside frames (arguments, results, payloads, params): lib0's `writeAny` format,
 * read back by a stricter reader than lib0's `readAny` — bounded nesting, no `__proto__`
 * keys, no unknown type tags — so hostile bytes get a clear error instead of a stack
 * overflow or a polluted object.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { malformedFrame } from "./errors.ts";

export const MAX_VALUE_DEPTH = 64;

export function writeValue(encoder: encoding.Encoder, value: unknown): void {
  encoding.writeAny(encoder, value as never);
}

export interface ReadValueOptions {
  /** Default MAX_VALUE_DEPTH. */
  readonly maxDepth?: number;
  /**
   * Keep `__proto__` keys as plain data (own properties) instead of refusing them: for
   * trusted stored values that were written by JSON.parse'd code.
   */
  readonly keepProtoKeys?: boolean;
}

export function readValue(decoder: decoding.Decoder, options: ReadValueOptions = {}, depth = 0): unknown {
  const maxDepth = options.maxDepth ?? MAX_VALUE_DEPTH;
  if (depth > maxDepth) throw malformedFrame(`values nest deeper than ${maxDepth}`);
  const tag = readByte(decoder);
  switch (tag) {
    case 127:
      return undefined;
    case 126:
      return null;
    case 125:
      need(decoder, 1);
      return decoding.readVarInt(decoder);
    case 124:
      need(decoder, 4);
      return decoding.readFloat32(decoder);
    case 123:
      need(decoder, 8);
      return decoding.readFloat64(decoder);
    case 122:
      need(decoder, 8);
      return decoding.readBigInt64(decoder);
    case 121:
      return false;
    case 120:
      return true;
    case 119:
      return readString(decoder);
    case 118: {
      const length = readLength(decoder);
      const object: Record<string, unknown> = {};
      for (let i = 0; i < length; i++) {
        const key = readString(decoder);
        if (key !== "__proto__") object[key] = readValue(decoder, options, depth + 1);
        else if (!options.keepProtoKeys) throw malformedFrame(`"__proto__" is not allowed as a key`);
        else Object.defineProperty(object, key, { value: readValue(decoder, options, depth + 1), enumerable: true, configurable: true, writable: true });
      }
      return object;
    }
    case 117: {
      const length = readLength(decoder);
      const array: unknown[] = [];
      for (let i = 0; i < length; i++) array.push(readValue(decoder, options, depth + 1));
      return array;
    }
    case 116:
      return readBytes(decoder).slice();
    default:
      throw malformedFrame(`unknown value tag ${tag}`);
  }
}

/** A length that cannot exceed what is left of the frame (each element takes ≥ 1 byte). */
export function readLength(decoder: decoding.Decoder): number {
  const length = readUint(decoder);
  if (length > decoder.arr.length - decoder.pos) throw malformedFrame("a length runs past the end of the frame");
  return length;
}

export function readBytes(decoder: decoding.Decoder): Uint8Array {
  const length = readLength(decoder);
  const bytes = decoder.arr.subarray(decoder.pos, decoder.pos + length);
  decoder.pos += length;
  return bytes;
}

function need(decoder: decoding.Decoder, bytes: number): void {
  if (decoder.arr.length - decoder.pos < bytes) throw malformedFrame("the frame ends early");
}

const utf8 = new TextDecoder();

/** Strings up to this many bytes are read by hand when they are ASCII (names, keys, ids). */
const SHORT_STRING = 32;

/** A length-prefixed UTF-8 string, bounds-checked against the frame (lib0's reader is not). */
export function readString(decoder: decoding.Decoder): string {
  const bytes = readBytes(decoder);
  // TextDecoder's fixed cost dominates short strings: ASCII is copied by hand (twice as fast).
  if (bytes.length <= SHORT_STRING) {
    let text = "";
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (byte >= 0x80) return utf8.decode(bytes);
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return utf8.decode(bytes);
}

export function readUint(decoder: decoding.Decoder): number {
  if (decoder.pos >= decoder.arr.length) throw malformedFrame("the frame ends early");
  const value = decoding.readVarUint(decoder);
  if (decoder.pos > decoder.arr.length) throw malformedFrame("the frame ends early");
  return value;
}

export function readByte(decoder: decoding.Decoder): number {
  if (decoder.pos >= decoder.arr.length) throw malformedFrame("the frame ends early");
  return decoding.readUint8(decoder);
}

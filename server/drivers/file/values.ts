/**
 * JSON-ish values (privateState, recorded results, schedule arguments) in lib0's `writeAny`
 * format. Reading does not use lib0's `readAny`: that one assigns keys with `obj[key] = …`,
 * so a stored `"__proto__"` key (JSON.parse makes such own properties) would replace the
 * object's prototype instead of coming back as data. Unknown type tags throw, which the
 * caller reports as corruption.
 *
 * What lib0's format cannot hold is not stored faithfully: a Date, Map or class instance is
 * written as a plain object of its own enumerable keys (the memory driver, which copies with
 * structuredClone, keeps them), so values should stay JSON-like.
 */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { readByte as readFrameByte, readValue as readFrameValue } from "../../../shared/protocol/value.ts";

export function writeValue(encoder: encoding.Encoder, value: unknown): void {
  encoding.writeAny(encoder, value as encoding.AnyEncodable);
}

/** Bounds-checked byte (the protocol's reader; its MalformedFrame is reported as corruption). */
export function readByte(decoder: decoding.Decoder): number {
  return readFrameByte(decoder);
}

/** The protocol's strict value reader, keeping `__proto__` keys of stored values as data. */
export function readValue(decoder: decoding.Decoder): unknown {
  return readFrameValue(decoder, { maxDepth: 1000, keepProtoKeys: true });
}

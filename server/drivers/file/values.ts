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
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";

export function writeValue(encoder: encoding.Encoder, value: unknown): void {
  encoding.writeAny(encoder, value as encoding.AnyEncodable);
}

const MAX_DEPTH = 1000;

/** `decoding.readUint8` does not check bounds: past the end it returns undefined. */
export function readByte(decoder: decoding.Decoder): number {
  if (decoder.pos >= decoder.arr.length) throw new Error("unexpected end of data");
  return decoding.readUint8(decoder);
}

export function readValue(decoder: decoding.Decoder, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new Error("value nested too deeply");
  const tag = readByte(decoder);
  switch (tag) {
    case 127:
      return undefined;
    case 126:
      return null;
    case 125:
      return decoding.readVarInt(decoder);
    case 124:
      return decoding.readFloat32(decoder);
    case 123:
      return decoding.readFloat64(decoder);
    case 122:
      return decoding.readBigInt64(decoder);
    case 121:
      return false;
    case 120:
      return true;
    case 119:
      return decoding.readVarString(decoder);
    case 118: {
      const length = decoding.readVarUint(decoder);
      const out: Record<string, unknown> = {};
      for (let i = 0; i < length; i++) {
        const key = decoding.readVarString(decoder);
        const item = readValue(decoder, depth + 1);
        if (key === "__proto__") Object.defineProperty(out, key, { value: item, enumerable: true, configurable: true, writable: true });
        else out[key] = item;
      }
      return out;
    }
    case 117: {
      const length = decoding.readVarUint(decoder);
      const out: unknown[] = [];
      for (let i = 0; i < length; i++) out.push(readValue(decoder, depth + 1));
      return out;
    }
    case 116:
      return decoding.readVarUint8Array(decoder).slice();
    default:
      throw new Error(`unknown value tag ${tag}`);
  }
}

/**
 * Applying a stored document (a snapshot, a log of updates) when an actor or a replica
 * loads. Yjs reads every `ContentAny` value — each item of a list of strings or objects —
 * through lib0's `readAny`, which decodes a string as a fresh `Uint8Array` view handed to
 * `TextDecoder`: for a list of 100,000 short strings that is most of the load (the views,
 * 100,000 native calls, and the garbage). This decoder reads the same bytes to the same
 * values (the Y.Doc it builds is the one `Y.applyUpdate` builds) with a cheaper path for
 * the common case, a short ASCII string: it is cut out of a Latin-1 text of the surrounding
 * bytes, decoded once per window. Anything else — a longer or non-ASCII string, numbers,
 * binaries, a malformed update — goes through lib0 itself, so values and errors are exactly
 * lib0's.
 */
import * as decoding from "lib0/decoding";
import * as Y from "yjs";

// lib0's `writeAny` type tags that hold strings (directly, or as object keys and members).
const STRING = 119;
const OBJECT = 118;
const ARRAY = 117;

/** Bytes turned into text at a time. For ASCII, Latin-1 (WHATWG: windows-1252) is the identity. */
const WINDOW = 64 * 1024;
/**
 * The longest string cut out of a window. V8 copies a substring shorter than 13 characters;
 * a longer one would be a view that keeps its whole window alive as long as the value lives.
 */
const SHORT = 12;
const latin1: TextDecoder | null = (() => {
  try {
    return new TextDecoder("latin1");
  } catch {
    return null; // a runtime without it: every string goes through lib0
  }
})();
const NON_ASCII = /[^\x00-\x7f]/g;

class StoredUpdateDecoder extends Y.UpdateDecoderV1 {
  /** `text` holds the bytes `[textStart, textStart + text.length)` of the update, one char each. */
  private text = "";
  private textStart = 0;
  /** Offset in `text` of its first non-ASCII char at or after `scanned` (Infinity: none). */
  private nonAscii = -1;
  private scanned = 0;

  override readAny(): unknown {
    return this.any(this.restDecoder);
  }

  private any(decoder: decoding.Decoder): unknown {
    const tag = decoder.arr[decoder.pos];
    if (tag === STRING) {
      decoder.pos++;
      return this.string(decoder);
    }
    if (tag === OBJECT) {
      decoder.pos++;
      const length = decoding.readVarUint(decoder);
      // As lib0 builds it (assignment, so a "__proto__" key behaves as it does there).
      const object: Record<string, unknown> = {};
      for (let i = 0; i < length; i++) {
        const key = this.string(decoder);
        object[key] = this.any(decoder);
      }
      return object;
    }
    if (tag === ARRAY) {
      decoder.pos++;
      const length = decoding.readVarUint(decoder);
      const array: unknown[] = [];
      for (let i = 0; i < length; i++) array.push(this.any(decoder));
      return array;
    }
    return decoding.readAny(decoder);
  }

  /** lib0's `readVarString`, with the short ASCII case cut out of the window's text. */
  private string(decoder: decoding.Decoder): string {
    const bytes = decoder.arr;
    const length = bytes[decoder.pos]; // a one-byte varuint, as every short length is
    if (latin1 === null || length === undefined || length > SHORT || decoder.pos + 1 + length > bytes.length) return decoding.readVarString(decoder);
    const start = decoder.pos + 1;
    const end = start + length;
    if (start < this.textStart || end > this.textStart + this.text.length) {
      this.textStart = start;
      this.text = latin1.decode(bytes.subarray(start, Math.min(bytes.length, start + WINDOW)));
      this.scanned = 0;
      this.nonAscii = -1;
    }
    const from = start - this.textStart;
    if (from < this.scanned || this.nonAscii < from) {
      NON_ASCII.lastIndex = from;
      const found = NON_ASCII.exec(this.text);
      this.nonAscii = found === null ? Number.POSITIVE_INFINITY : found.index;
      this.scanned = from;
    }
    if (this.nonAscii < from + length) return decoding.readVarString(decoder);
    decoder.pos = end;
    return this.text.slice(from, from + length);
  }
}

/** `Y.applyUpdate(doc, update, origin)` (v1 encoding), decoding list values faster. */
export function applyStoredUpdate(doc: Y.Doc, update: Uint8Array, origin?: unknown): void {
  Y.applyUpdateV2(doc, update, origin, StoredUpdateDecoder);
}

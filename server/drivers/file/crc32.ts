/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) over byte ranges, incremental:
 * `crc32(b, crc32(a)) === crc32(a ‖ b)`. Node's native `zlib.crc32` (Node ≥ 20.15) when it
 * exists; a table-driven fallback for older Node 20 releases, which package.json allows.
 */
import * as zlib from "node:zlib";

let table: Uint32Array | null = null;

function makeTable(): Uint32Array {
  const out = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    out[n] = c >>> 0;
  }
  return out;
}

/** The table-driven implementation (exported so tests can check it against the native one). */
export function crc32Table(data: Uint8Array, value = 0): number {
  table ??= makeTable();
  let crc = ~value >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export const crc32: (data: Uint8Array, value?: number) => number =
  typeof native === "function" ? (data, value = 0) => native(data, value) : crc32Table;

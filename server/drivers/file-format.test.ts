import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { describe, expect, test } from "vitest";
import { decodeBatch, decodeMeta, decodeSnapshot, encodeBatch, encodeCommit, encodeMeta, encodeSnapshot } from "./file/codec.ts";
import { crc32, crc32Table } from "./file/crc32.ts";
import { FILE_HEADER_SIZE, encodeFrame, fileHeader, readSingleFrame, scanFrames } from "./file/format.ts";
import { decodeLeaseFile, encodeLeaseFile, leaseSlotWrite } from "./file/lease-file.ts";
import { readValue, writeValue } from "./file/values.ts";

/** A seeded byte generator (mulberry32), so failures replay. */
function bytes(seed: number, length: number): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

describe("crc32", () => {
  test("the table fallback matches the native implementation and known vectors", () => {
    expect(crc32Table(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    for (let seed = 1; seed < 20; seed++) {
      const data = bytes(seed, seed * 37);
      expect(crc32Table(data)).toBe(crc32(data));
    }
  });

  test("it is incremental", () => {
    const a = bytes(1, 100);
    const b = bytes(2, 77);
    expect(crc32(b, crc32(a))).toBe(crc32(concat(a, b)));
    expect(crc32Table(b, crc32Table(a))).toBe(crc32(concat(a, b)));
  });
});

describe("frames", () => {
  const log = (...payloads: Uint8Array[]) => concat(fileHeader("log"), ...payloads.map((p) => encodeFrame(p)));

  test("a clean log scans to its payloads", () => {
    const file = log(bytes(1, 10), bytes(2, 1), bytes(3, 300));
    const scan = scanFrames(file);
    expect(scan.kind).toBe("ok");
    if (scan.kind !== "ok") return;
    expect(scan.payloads).toEqual([bytes(1, 10), bytes(2, 1), bytes(3, 300)]);
    expect(scan.end).toBe(file.length);
  });

  test("every cut inside the last frame is a torn tail ending at the last whole frame", () => {
    const whole = log(bytes(1, 20), bytes(2, 30));
    const lastStart = whole.length - 38;
    for (let cut = lastStart + 1; cut < whole.length; cut++) {
      const scan = scanFrames(whole.subarray(0, cut));
      expect(scan).toMatchObject({ kind: "torn", end: lastStart });
    }
  });

  test("any single flipped byte in the last frame is a torn tail; in an earlier frame, corruption", () => {
    const whole = log(bytes(1, 20), bytes(2, 30), bytes(3, 25));
    const starts = [FILE_HEADER_SIZE, FILE_HEADER_SIZE + 28, FILE_HEADER_SIZE + 28 + 38];
    for (let at = FILE_HEADER_SIZE; at < whole.length; at++) {
      const damaged = whole.slice();
      damaged[at] = damaged[at]! ^ 0x10;
      const scan = scanFrames(damaged);
      if (at >= starts[2]!) expect(scan).toMatchObject({ kind: "torn", end: starts[2] });
      else expect(scan.kind).toBe("corrupt");
    }
  });

  test("zeros never read as a frame", () => {
    expect(scanFrames(concat(log(bytes(1, 5)), new Uint8Array(64)))).toMatchObject({ kind: "torn", end: FILE_HEADER_SIZE + 13 });
  });

  test("single-frame files must hold exactly one valid frame of their kind", () => {
    const file = encodeFrame(bytes(4, 40), "snapshot");
    expect(readSingleFrame(file, "snapshot")).toEqual(bytes(4, 40));
    expect(readSingleFrame(file, "meta")).toMatch(/not a meta file/);
    expect(readSingleFrame(file.subarray(0, file.length - 1), "snapshot")).toMatch(/short frame/);
    expect(readSingleFrame(concat(file, Uint8Array.of(0)), "snapshot")).toMatch(/unexpected bytes/);
    const future = file.slice();
    future[5] = 9;
    expect(readSingleFrame(future, "snapshot")).toMatch(/unsupported format version 9/);
  });
});

describe("codecs", () => {
  test("values: lib0's any format, read back without touching prototypes", () => {
    const values = [undefined, null, 0, -1, 2 ** 31, 2 ** 53 - 1, 1.5, -0.1, 12n, true, false, "", "ü✓", [], {}, new Uint8Array([1, 2]), { a: [1, { b: null }] }];
    for (const value of values) {
      const encoder = encoding.createEncoder();
      writeValue(encoder, value);
      const decoder = decoding.createDecoder(encoding.toUint8Array(encoder));
      expect(readValue(decoder)).toEqual(value);
      expect(decoder.pos).toBe(decoder.arr.length);
    }
    expect(() => readValue(decoding.createDecoder(Uint8Array.of(3)))).toThrow(/unknown value tag/);
    expect(() => readValue(decoding.createDecoder(new Uint8Array(0)))).toThrow(/ends early/);
  });

  test("commits keep which fields were present, including an explicit undefined privateState", () => {
    const commits = [
      {},
      { privateState: undefined },
      { update: Uint8Array.of(1, 2, 3), alarm: null },
      { schedules: { put: [{ id: "s", at: 1.5e12, action: "a", args: [1] }], remove: ["t"] }, alarm: 1.5e12 },
      { seqs: [{ clientId: "c", seq: 3, result: { ok: false as const, error: { code: "x", message: "m", group: "user" as const } } }] },
    ];
    const decoded = decodeBatch(encodeBatch(commits.map(encodeCommit)));
    expect(decoded).toEqual([{}, { privateState: undefined }, commits[2], commits[3], commits[4]]);
    expect("privateState" in decoded[1]!).toBe(true);
    expect("privateState" in decoded[0]!).toBe(false);
    expect(() => decodeBatch(Uint8Array.of(0))).toThrow(/empty/);
    expect(() => decodeBatch(concat(encodeBatch([encodeCommit({})]), Uint8Array.of(0)))).toThrow(/trailing/);
  });

  test("snapshots and meta round-trip", () => {
    const snapshot = { doc: Uint8Array.of(0, 0), privateState: { a: 1 }, seqs: [], schedules: [{ id: "s", at: 5, action: "a", args: [] }], alarm: 5 };
    expect(decodeSnapshot(encodeSnapshot(snapshot))).toEqual(snapshot);
    const meta = { id: "id", name: "room", key: ["a", ""], createdAt: 1_700_000_000_123 };
    expect(decodeMeta(encodeMeta(meta))).toEqual(meta);
  });
});

describe("lease file", () => {
  test("an update overwrites the older slot, so a torn update keeps the previous token", () => {
    let file = encodeLeaseFile(7);
    expect(decodeLeaseFile(file)).toBe(7);
    for (const token of [8, 9, 2 ** 40 + 1]) {
      const { position, bytes: slot } = leaseSlotWrite(file, token);
      const torn = file.slice();
      torn.set(slot.subarray(0, 5), position);
      expect(decodeLeaseFile(torn)).toBe(decodeLeaseFile(file));
      file = file.slice();
      file.set(slot, position);
      expect(decodeLeaseFile(file)).toBe(token);
    }
    expect(decodeLeaseFile(new Uint8Array(FILE_HEADER_SIZE + 24))).toMatch(/bad magic/);
  });
});

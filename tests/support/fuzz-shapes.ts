/**
 * Shapes the bad-input fuzzers draw from: nesting depths (1..10,000) and sizes (up to just
 * under the frame limit), log-uniform so small and huge both come up; deep JSON built as
 * text (a deep object is never built in this process: stringifying one would overflow here
 * first); and the verdict a case expects.
 */
import { DEFAULT_LIMITS } from "../../server/network/limits.ts";
import type { Random } from "./random.ts";

export const FRAME_LIMIT = DEFAULT_LIMITS.maxFrameBytes;
export const MAX_DEPTH = 10_000;

/**
 * What the server must do with a case: `accept` it (well-formed, small), `reject` it with a
 * clear error and no change, or `either` (near a limit whose exact value is the server's
 * choice) — but never crash, restart the actor or drop another connection.
 */
export type Verdict = "accept" | "reject" | "either";

/** Depths at or under this are ordinary data; at or over REJECT_DEPTH they are over any sane limit (64 is the planned one). */
export const ACCEPT_DEPTH = 30;
export const REJECT_DEPTH = 100;

export function verdictForDepth(depth: number): Verdict {
  if (depth <= ACCEPT_DEPTH) return "accept";
  return depth >= REJECT_DEPTH ? "reject" : "either";
}

/** An integer in 1..max, log-uniform. */
export function logUniform(rng: Random, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(Math.exp(rng.next() * Math.log(max + 1)))));
}

/**
 * A nesting depth: `over` draws one past any sane limit (half the time 5,000..10,000, where
 * recursive code overflows the stack, else 100..10,000 log-uniform); otherwise a third of the
 * time ordinary (1..30), else anywhere in 1..10,000.
 */
export function depth(rng: Random, over = false): number {
  if (over) return rng.bool() ? MAX_DEPTH / 2 + rng.int(MAX_DEPTH / 2 + 1) : Math.round(REJECT_DEPTH * Math.pow(MAX_DEPTH / REJECT_DEPTH, rng.next()));
  return rng.bool(0.33) ? 1 + rng.int(ACCEPT_DEPTH) : logUniform(rng, MAX_DEPTH);
}

/** A size in bytes up to `max`, with a fair chance of being within 8 KB of it. */
export function size(rng: Random, max: number): number {
  return rng.bool(0.15) ? max - rng.int(8192) : logUniform(rng, max);
}

/** `depth` levels of objects (`{"a":…}`) or arrays (`[…]`) around `leaf`, as JSON text. */
export function deepJson(levels: number, kind: "object" | "array", leaf = "1"): string {
  return kind === "object" ? `${'{"a":'.repeat(levels)}${leaf}${"}".repeat(levels)}` : `${"[".repeat(levels)}${leaf}${"]".repeat(levels)}`;
}

export function randomBytes(rng: Random, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = rng.bool(0.2) ? rng.pick([0, 1, 0x7f, 0x80, 0xff, 0x7b, 0x22]) : rng.int(256);
  return bytes;
}

/** The kinds of case a seed runs: every kind once (in a seeded order), then random ones. */
export function schedule(rng: Random, kinds: number, count: number): number[] {
  const order = Array.from({ length: kinds }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return Array.from({ length: count }, (_, i) => (i < kinds ? order[i]! : rng.int(kinds)));
}

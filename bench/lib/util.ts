/**
 * What every part of the bench shares: its directories, sizes (BENCH_QUICK), rounding,
 * percentiles, waiting with deadlines, and the machine's description.
 */
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export type Figures = Record<string, unknown>;
export type System = "tandem" | "hocuspocus" | "y-websocket" | "rivetkit" | "echo";

export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
export const REPO_DIR = join(BENCH_DIR, "..");

/** BENCH_QUICK=1 shrinks every workload for a quick look (development on a shared machine). */
export const QUICK = process.env.BENCH_QUICK === "1";
export const size = (full: number, quick: number): number => (QUICK ? quick : full);

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function latencySummary(samples: number[]): { p50Ms: number; p99Ms: number; meanMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length);
  return { p50Ms: round(percentile(sorted, 50), 3), p99Ms: round(percentile(sorted, 99), 3), meanMs: round(mean, 3) };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` (every `everyMs`) until it holds; throws after `ms`. */
export async function waitUntil(check: () => boolean, what: string, ms = 60_000, everyMs = 1): Promise<void> {
  const until = performance.now() + ms;
  while (!check()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Settles as `promise` does, or rejects after `ms`: a deadline turns a hang into an error. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function machine(): Figures {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memGB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

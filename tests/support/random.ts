/**
 * Seeded randomness for reproducible randomized tests. Every randomized test prints its
 * seed; set `SEED=<n>` to re-run one, `SEEDS=<n>` to run more of them.
 */
export interface Random {
  readonly seed: number;
  next(): number;
  int(max: number): number;
  pick<T>(items: readonly T[]): T;
  bool(p?: number): boolean;
  string(maxLength: number): string;
}

export function random(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  return {
    seed,
    next,
    int,
    pick: (items) => items[int(items.length)]!,
    bool: (p = 0.5) => next() < p,
    string: (maxLength) => {
      const length = 1 + int(maxLength);
      let out = "";
      for (let i = 0; i < length; i++) out += "abcdefghij klmnop"[int(17)];
      return out;
    },
  };
}

/** The seeds a randomized test runs: SEED pins one, SEEDS sets how many (default `count`). */
export function seeds(count: number): number[] {
  if (process.env.SEED) return [Number(process.env.SEED)];
  const n = process.env.SEEDS ? Number(process.env.SEEDS) : count;
  const base = process.env.SEED_BASE ? Number(process.env.SEED_BASE) : 1;
  return Array.from({ length: n }, (_, i) => base + i);
}

/** Polls `check` until it is true or `ms` pass (bounded), then fails with `what`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`Timed out after ${ms} ms waiting for: ${what}`);
}

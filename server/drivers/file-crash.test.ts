/**
 * kill -9 against the file driver while it compacts: a child process runs a server
 * (file-crash.child.ts) that compacts an actor's log after every COMPACT_AFTER commits, with
 * several streams of actions through the inline client (no network: as many commits as the
 * driver takes, so kills land inside compactions' generation swaps as well as inside group
 * commits), killed with SIGKILL at seeded moments and restarted on the same directory, over
 * and over. After every restart, every acknowledged number must be in the actor's state
 * exactly once, nothing may appear twice, and each stream's numbers must form an unbroken
 * prefix (a later call only starts after the earlier one was acknowledged).
 * Re-run a failure with CRASH_SEED=<seed>.
 *
 * The end-to-end version — the `tandem serve` CLI killed under real network clients, with
 * the default compaction — is tests/serve-crash.test.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { createServer } from "../create-server.ts";
import { fileDriver } from "./file.ts";
import { KEYS, STREAM_SPAN, registry } from "./file-crash.registry.ts";

const CYCLES = 8;
/** Compaction after this many commits: nearly every kill finds one running or just done. */
const COMPACT_AFTER = 3;
const STREAMS = 4;
const CYCLE_SPAN = STREAMS * STREAM_SPAN;

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ROOT = here("../..");
const CHILD = here("./file-crash.child.ts");
/**
 * Node itself with tsx's loader, not the `tsx` command: that is a wrapper process which
 * runs the script in a child of its own, and SIGKILL (which it cannot relay) would kill
 * only the wrapper and leave the server running.
 */
const NODE_ARGS = ["--import", "tsx", CHILD];

/** mulberry32: a small seeded generator, so the kill plan of a seed is reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the child printed in one run, and a way to wait for lines. */
class Run {
  readonly states = new Map<string, number[]>();
  readonly acked: { key: string; n: number }[] = [];
  /** Compactions the child reported (its driver's counter). */
  compactions = 0;
  started = false;
  stderr = "";
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    child.stderr!.on("data", (chunk) => (this.stderr += String(chunk)));
    createInterface({ input: child.stdout! }).on("line", (line) => this.line(line));
    void this.exited.then(() => {
      for (const waiter of this.waiters.splice(0)) waiter.resolve();
    });
  }

  private line(line: string): void {
    const [kind, key = "", rest = ""] = line.split(" ", 3);
    if (kind === "state") this.states.set(key, JSON.parse(rest) as number[]);
    else if (kind === "ack") this.acked.push({ key, n: Number(rest) });
    else if (kind === "go") this.started = true;
    else if (kind === "compactions") this.compactions = Number(key);
    for (const waiter of [...this.waiters]) {
      if (waiter.test()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  /** Resolves when `test` holds or the child exits. */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

/** Checks one key's state against everything acknowledged so far. */
function verify(key: string, items: readonly number[], acked: ReadonlySet<number>, context: string): void {
  const seen = new Set<number>();
  for (const n of items) {
    if (seen.has(n)) throw new Error(`${context}: ${key} holds ${n} twice`);
    seen.add(n);
  }
  for (const n of acked) if (!seen.has(n)) throw new Error(`${context}: ${key} lost acknowledged ${n}`);
  // Per stream and run: the numbers present are 0..m without a gap.
  const byStream = new Map<number, number[]>();
  for (const n of items) {
    const stream = Math.floor(n / STREAM_SPAN);
    byStream.set(stream, [...(byStream.get(stream) ?? []), n % STREAM_SPAN]);
  }
  for (const [stream, offsets] of byStream) {
    offsets.forEach((offset, i) => {
      if (offset !== i) throw new Error(`${context}: ${key} stream ${stream} has ${offset} at position ${i} (a gap or reordering)`);
    });
  }
}

test(
  "kill -9 at random moments, through compactions and group commits, loses no acknowledged action and doubles none",
  async () => {
    const seed = process.env.CRASH_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.CRASH_SEED);
    console.log(`file crash test: seed ${seed} (re-run with CRASH_SEED=${seed})`);
    const rand = random(seed);
    const dir = await mkdtemp(join(tmpdir(), "tandem-file-crash-"));
    const acked = new Map<string, Set<number>>(KEYS.map((key) => [key, new Set<number>()]));
    const context = (cycle: number) => `seed ${seed}, cycle ${cycle}`;
    let kills = 0;
    let compactions = 0;
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const child = spawn(process.execPath, [...NODE_ARGS, dir, String(cycle * CYCLE_SPAN), String(STREAMS), String(COMPACT_AFTER)], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
        const run = new Run(child);
        try {
          await run.until(() => run.started);
          if (!run.started) throw new Error(`${context(cycle)}: the child exited before starting: ${run.stderr}`);
          for (const key of KEYS) verify(key, run.states.get(key)!, acked.get(key)!, context(cycle));

          // The kill plan: after a seeded number of acknowledgements, or a seeded short delay.
          if (rand() < 0.7) {
            const after = Math.floor(rand() * 150);
            await run.until(() => run.acked.length >= after);
          } else {
            await new Promise((resolve) => setTimeout(resolve, Math.floor(rand() * 40)));
          }
          child.kill("SIGKILL");
          const { signal } = await run.exited;
          if (signal !== "SIGKILL") throw new Error(`${context(cycle)}: the child ended by itself: ${run.stderr}`);
          kills++;
          compactions += run.compactions;
          for (const { key, n } of run.acked) acked.get(key)!.add(n);
        } finally {
          child.kill("SIGKILL");
          await run.exited;
        }
      }

      // Last check, through a fresh server in this process.
      const server = createServer(registry, { driver: fileDriver({ dir, log: { warn() {} } }), logger: false });
      for (const key of KEYS) verify(key, await server.client.log.get(key).items(), acked.get(key)!, "final check");
      await server.close();
      const total = [...acked.values()].reduce((sum, set) => sum + set.size, 0);
      console.log(`file crash test: ${kills} kills, ${total} acknowledged actions, at least ${compactions} compactions, none lost`);
      expect(kills).toBe(CYCLES);
      expect(total).toBeGreaterThan(0);
      expect(compactions).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  90_000,
);

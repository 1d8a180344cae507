/**
 * The benchmark harness. A workload file declares cases; each case runs once per system
 * (Tandem and its anchors), every run in a fresh child process ("a side") that starts its
 * own server in another child process (bench/lib/server-process.ts) and drives it from the
 * side's process over 127.0.0.1. So a run never loads two copies of yjs (Tandem's, from the
 * repo's node_modules, and the anchors', from bench/node_modules), and the server's memory is
 * its own process's.
 *
 *   node --import tsx bench/workloads/x.ts               → runs every case, one JSON line each
 *   node --import tsx bench/workloads/x.ts --case c --side s → one side (the harness does this)
 *
 * Each case prints `{ workload, tandem: {...}, anchor: { name, ... }, ratio, ratioOf }`, where
 * ratio > 1 means Tandem is better; further anchors go in `others`. Every side has a hard
 * time limit; a side that fails or times out is reported as `{ error }` and the run goes on.
 */
import { fork } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import os from "node:os";

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

/** Resolves when every promise has; a deadline turns a hang into an error. */
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

// ---------------------------------------------------------------------------------------
// Servers in child processes

export interface ServerMemory {
  /** RSS now, and the kernel's high-water mark of RSS since the last resetPeak(). */
  rssMB: number;
  peakRssMB: number;
  /** V8 heap used + external (ArrayBuffers, Buffers), now and its sampled peak (every 5 ms). */
  heapMB: number;
  peakHeapMB: number;
}

export interface ServerHandle {
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly pid: number;
  /** Whatever the server module reported on start (e.g. its driver's directory). */
  readonly info: Figures;
  /** Runs a full GC in the server (it runs with --expose-gc) and reports its memory. */
  memory(options?: { gc?: boolean }): Promise<ServerMemory>;
  /** Resets the peaks (the kernel's RSS high-water mark and the sampled heap peak). */
  resetPeak(): Promise<void>;
  /**
   * CPU profiles of the server and of this process while `run` runs, written to
   * BENCH_PROFILE_DIR when it is set (else just runs it). Summaries: bench/lib/profile-summary.ts.
   */
  profiled<T>(label: string, run: () => Promise<T>): Promise<T>;
  /** The server process's CPU time so far (user + system), in ms. */
  cpuMs(): Promise<number>;
  /** Calls a server module's command (e.g. to seed data), returns its answer. */
  command(name: string, args?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

const MB = 2 ** 20;

function procStatusKB(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Starts `bench/servers/<system>.ts` in a child process (node --import tsx --expose-gc). */
export async function startServer(system: System, options: Figures = {}): Promise<ServerHandle> {
  const child = fork(join(BENCH_DIR, "lib", "server-process.ts"), [system, JSON.stringify(options)], {
    cwd: REPO_DIR,
    execArgv: ["--import", "tsx", "--expose-gc", ...(process.env.BENCH_SERVER_NODE_OPTIONS?.split(" ").filter(Boolean) ?? [])],
    stdio: ["ignore", 2, 2, "ipc"], // stdout is for the JSON lines alone: whatever they print goes to stderr
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let exited = false;
  child.on("exit", (code, signal) => {
    exited = true;
    for (const { reject } of waiting.values()) reject(new Error(`server ${system} exited (${code ?? signal})`));
    waiting.clear();
  });
  child.on("message", (message: { id?: number; ok?: boolean; value?: unknown; error?: string }) => {
    const entry = message.id === undefined ? undefined : waiting.get(message.id);
    if (!entry) return;
    waiting.delete(message.id!);
    if (message.ok) entry.resolve(message.value);
    else entry.reject(new Error(message.error ?? "server command failed"));
  });
  const call = (type: string, args?: unknown, ms = 120_000): Promise<unknown> => {
    if (exited) return Promise.reject(new Error(`server ${system} is not running`));
    const id = nextId++;
    return within(
      ms,
      `server ${system}: ${type}`,
      new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.send({ id, type, args });
      }),
    );
  };
  const started = (await call("start", undefined, 60_000)) as { port: number; info: Figures };
  const pid = child.pid!;
  return {
    port: started.port,
    url: `http://127.0.0.1:${started.port}`,
    wsUrl: `ws://127.0.0.1:${started.port}`,
    pid,
    info: started.info ?? {},
    async memory(opts = {}) {
      const heap = (await call("memory", { gc: opts.gc ?? false })) as { heap: number; peakHeap: number };
      return {
        rssMB: round(procStatusKB(pid, "VmRSS") / 1024, 1),
        peakRssMB: round(procStatusKB(pid, "VmHWM") / 1024, 1),
        heapMB: round(heap.heap / MB, 2),
        peakHeapMB: round(heap.peakHeap / MB, 2),
      };
    },
    async resetPeak() {
      await call("reset-peak");
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, "5"); // resets VmHWM to the current RSS (Linux ≥ 4.0)
      } catch {
        // not permitted: the peak is then the process's lifetime peak
      }
    },
    command: (name, args) => call("command", { name, args }),
    async cpuMs() {
      const { user, system: sys } = (await call("cpu")) as { user: number; system: number };
      return (user + sys) / 1000;
    },
    async profiled(label, run) {
      const dir = process.env.BENCH_PROFILE_DIR;
      if (!dir) return run();
      // Both processes: the server's, and this one (the clients').
      const local = new Session();
      local.connect();
      await local.post("Profiler.enable");
      await call("profile-start");
      await local.post("Profiler.start");
      try {
        return await run();
      } finally {
        const stamp = Date.now();
        const { profile } = (await local.post("Profiler.stop")) as { profile: unknown };
        local.disconnect();
        writeFileSync(join(dir, `${label}-${system}-clients-${stamp}.cpuprofile`), JSON.stringify(profile));
        const file = join(dir, `${label}-${system}-server-${stamp}.cpuprofile`);
        await call("profile-stop", { file });
        console.error(`bench: profiles of ${label} (${system}) in ${dir}`);
      }
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        await call("stop", undefined, 20_000);
        await within(10_000, "the server to exit", gone); // (it writes its --cpu-prof on the way out)
      } catch {
        // it is killed below
      }
      if (!exited) child.kill("SIGKILL");
      await gone;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Workloads, cases and sides

export interface SideContext {
  /** The figures of this side so far can be extended by the side function's result. */
  readonly system: System;
  startServer: typeof startServer;
}

export type SideFunction = (ctx: SideContext) => Promise<Figures>;

export interface CaseSpec {
  /** The `workload` field of the JSON line. */
  readonly title: string;
  /** What is measured, in one line (printed as `what`). */
  readonly what?: string;
  readonly tandem: SideFunction;
  /** Anchors by name; the first one is the line's `anchor`, the rest go in `others`. */
  readonly anchors: Partial<Record<System, SideFunction>>;
  /** ratio > 1 means Tandem is better. */
  readonly ratio: (tandem: Figures, anchor: Figures) => number;
  /** How the ratio is computed, in words (printed as `ratioOf`). */
  readonly ratioOf: string;
  /** The target for this case, printed as is. */
  readonly target?: string;
  /** Hard limit for one side, in ms (default 180 s). */
  readonly timeoutMs?: number;
  /** Extra fields computed from the sides' figures (e.g. the distance to a floor). */
  readonly extra?: (tandem: Figures, anchors: Record<string, Figures>) => Figures;
}

interface SideResult {
  ok: boolean;
  figures?: Figures;
  error?: string;
}

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function runSideHere(specs: Record<string, CaseSpec>, caseName: string, system: System): Promise<void> {
  process.setMaxListeners(0); // y-websocket providers each listen for the process exit
  const spec = specs[caseName];
  const fn = spec === undefined ? undefined : system === "tandem" ? spec.tandem : spec.anchors[system];
  let result: SideResult;
  if (!fn) result = { ok: false, error: `no side ${system} for case ${caseName}` };
  else {
    try {
      result = { ok: true, figures: await fn({ system, startServer }) };
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
  }
  await new Promise<void>((resolve) => process.send!(result, () => resolve()));
  process.exit(0);
}

/** Runs one side in a child process with a hard time limit. */
function runSide(file: string, caseName: string, system: System, timeoutMs: number): Promise<SideResult> {
  return new Promise((resolve) => {
    const child = fork(file, ["--case", caseName, "--side", system], {
      cwd: REPO_DIR,
      execArgv: ["--import", "tsx", "--expose-gc", ...(process.env.BENCH_SIDE_NODE_OPTIONS?.split(" ").filter(Boolean) ?? [])],
      stdio: ["ignore", 2, 2, "ipc"], // stdout is for the JSON lines alone: whatever they print goes to stderr
    });
    let result: SideResult | undefined;
    const timer = setTimeout(() => {
      result ??= { ok: false, error: `timed out after ${timeoutMs} ms` };
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("message", (message: SideResult) => {
      result ??= message;
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(result ?? { ok: false, error: `side exited (${code ?? signal}) without a result` });
    });
  });
}

const figuresOf = (result: SideResult): Figures => (result.ok ? result.figures! : { error: result.error?.split("\n").slice(0, 3).join(" | ") });

export interface CaseResult {
  readonly tandem: Figures;
  readonly anchors: Record<string, Figures>;
}

/** Prints one workload line: `{ workload, tandem, anchor: { name, ... }, ratio, ratioOf, others? }`. */
export function printLine(
  spec: Pick<CaseSpec, "title" | "what" | "ratio" | "ratioOf" | "target" | "extra">,
  { tandem, anchors }: CaseResult,
): void {
  const ratioFor = (figures: Figures): number | null => {
    if ("error" in tandem || "error" in figures) return null;
    const ratio = spec.ratio(tandem, figures);
    return Number.isFinite(ratio) ? round(ratio, 2) : null;
  };
  const [first, ...rest] = Object.entries(anchors);
  const line: Figures = {
    workload: spec.title,
    ...(spec.what ? { what: spec.what } : {}),
    tandem,
    anchor: first ? { name: first[0], ...first[1] } : null,
    ratio: first ? ratioFor(first[1]) : null,
    ratioOf: spec.ratioOf,
    ...(rest.length ? { others: rest.map(([anchorName, figures]) => ({ name: anchorName, ...figures, ratio: ratioFor(figures) })) } : {}),
    ...(spec.target ? { target: spec.target } : {}),
    ...(spec.extra && !("error" in tandem) ? spec.extra(tandem, anchors) : {}),
    // Other work on the machine skews every figure: the 1-minute load average as the line ends.
    load1m: round(os.loadavg()[0]!, 2),
    ...(QUICK ? { quick: true } : {}),
  };
  console.log(JSON.stringify(line));
}

/**
 * Declares a workload file's cases. Run directly, it runs them all (or those named in
 * BENCH_CASES, comma-separated), prints one line each and returns their figures; run by the
 * harness with `--case --side`, it runs that one side, reports to its parent and exits.
 */
export async function workload(fileUrl: string, specs: Record<string, CaseSpec>): Promise<Record<string, CaseResult>> {
  const caseName = argValue("--case");
  const side = argValue("--side") as System | undefined;
  if (caseName !== undefined && side !== undefined) {
    await runSideHere(specs, caseName, side);
    return {};
  }
  const file = fileURLToPath(fileUrl);
  const only = process.env.BENCH_CASES?.split(",").filter(Boolean);
  const results: Record<string, CaseResult> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (only && !only.includes(name)) continue;
    const timeoutMs = spec.timeoutMs ?? 180_000;
    const systems = process.env.BENCH_SYSTEMS?.split(",").filter(Boolean); // profiling one side
    const skip = (system: System) => systems !== undefined && !systems.includes(system);
    const tandem = skip("tandem") ? { skipped: true } : figuresOf(await runSide(file, name, "tandem", timeoutMs));
    const anchors: Record<string, Figures> = {};
    for (const anchor of Object.keys(spec.anchors) as System[]) {
      if (!skip(anchor)) anchors[anchor] = figuresOf(await runSide(file, name, anchor, timeoutMs));
    }
    results[name] = { tandem, anchors };
    printLine(spec, results[name]);
  }
  return results;
}

/** Whether this process is a side (then the workload file's own top-level code must not run). */
export const IS_SIDE = process.argv.includes("--side");

/**
 * Runs a measured phase: its wall time is the caller's business; this adds the CPU time the
 * server process and this (the clients') process spent in it — on a 2-core machine where
 * clients and server share the CPU, they show whose work a wall time is — and CPU profiles
 * of both when BENCH_PROFILE_DIR is set.
 */
export async function phase<T>(server: ServerHandle, label: string, run: () => Promise<T>): Promise<{ value: T; cpu: Figures }> {
  const serverBefore = await server.cpuMs();
  const localBefore = process.cpuUsage();
  const value = await server.profiled(label, run);
  const local = process.cpuUsage(localBefore);
  const serverCpuMs = (await server.cpuMs()) - serverBefore;
  return { value, cpu: { serverCpuMs: round(serverCpuMs, 0), clientsCpuMs: round((local.user + local.system) / 1000, 0) } };
}

/** A server's memory figures around a workload: baseline after GC, peak during, delta. */
export async function memoryAround<T>(server: ServerHandle, run: () => Promise<T>): Promise<{ result: T; memory: Figures }> {
  const before = await server.memory({ gc: true });
  await server.resetPeak();
  const result = await run();
  const after = await server.memory();
  return {
    result,
    memory: {
      serverBaselineRssMB: before.rssMB,
      serverPeakRssMB: after.peakRssMB,
      serverPeakRssDeltaMB: round(after.peakRssMB - before.rssMB, 1),
      serverPeakHeapDeltaMB: round(after.peakHeapMB - before.heapMB, 1),
    },
  };
}

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
import { fileURLToPath } from "node:url";
import os from "node:os";
import { type ServerHandle, startServer } from "./server-handle.ts";
import { type Figures, QUICK, REPO_DIR, type System, round } from "./util.ts";

export * from "./util.ts";
export * from "./server-handle.ts";

export interface SideContext {
  /** The system this side runs (its server module is bench/servers/<system>.ts). */
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

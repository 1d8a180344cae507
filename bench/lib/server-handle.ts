/**
 * Benchmark servers in child processes (bench/lib/server-process.ts running
 * bench/servers/<system>.ts), driven over IPC: their memory (the kernel's RSS high-water mark
 * from /proc, the V8 heap), CPU time, CPU profiles of a phase, module commands, stop.
 */
import { fork } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { BENCH_DIR, type Figures, REPO_DIR, type System, round, within } from "./util.ts";


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
      mkdirSync(dir, { recursive: true });
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

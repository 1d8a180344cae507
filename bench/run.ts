/**
 * `npm run bench`: installs the anchors into bench/node_modules when they are missing or not
 * the pinned versions (`npm install --prefix bench`), prints the machine once, then runs
 * every workload file in order, each in its own process with a hard time limit. Every
 * workload prints one JSON line: `{ workload, tandem, anchor: { name, ... }, ratio, ratioOf }`
 * (ratio > 1: Tandem is better).
 *
 * BENCH_QUICK=1 shrinks every workload (a look, not a result); BENCH_ONLY=documents,actions
 * runs some files; BENCH_CASES=fan-out,… some cases of them.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { BENCH_DIR, REPO_DIR, machine } from "./lib/harness.ts";

const WORKLOADS: { file: string; timeoutMs: number }[] = [
  { file: "documents.ts", timeoutMs: 25 * 60_000 },
  { file: "actions.ts", timeoutMs: 20 * 60_000 },
  { file: "cold-load.ts", timeoutMs: 15 * 60_000 },
  { file: "idle-memory.ts", timeoutMs: 10 * 60_000 },
  { file: "scale-out.ts", timeoutMs: 15 * 60_000 },
];

/** The pinned anchors are installed at exactly the versions bench/package.json names. */
function anchorsInstalled(): boolean {
  const pins = (JSON.parse(readFileSync(join(BENCH_DIR, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;
  return Object.entries(pins).every(([name, version]) => {
    const manifest = join(BENCH_DIR, "node_modules", name, "package.json");
    return existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version === version;
  });
}

if (!anchorsInstalled()) {
  console.error("bench: installing the anchors (npm install --prefix bench)");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const install = spawnSync(npm, ["install", "--prefix", BENCH_DIR, "--no-audit", "--no-fund", "--loglevel=error"], { cwd: REPO_DIR, stdio: "inherit" });
  if (install.status !== 0 || !anchorsInstalled()) {
    console.error("bench: could not install the anchors");
    process.exit(1);
  }
}

console.log(JSON.stringify({ machine: { ...machine(), loadAverage1m: Number(loadavg()[0]!.toFixed(2)) }, quick: process.env.BENCH_QUICK === "1" }));

const only = process.env.BENCH_ONLY?.split(",").filter(Boolean);
let failed = 0;
for (const { file, timeoutMs } of WORKLOADS) {
  if (only && !only.some((name) => file.startsWith(name))) continue;
  const code = await new Promise<number>((resolve) => {
    // Detached: a timeout kills the workload's whole process group (its sides and servers).
    const child = spawn(process.execPath, ["--import", "tsx", join(BENCH_DIR, "workloads", file)], { cwd: REPO_DIR, stdio: "inherit", detached: true });
    const timer = setTimeout(() => {
      console.log(JSON.stringify({ workload: file, error: `timed out after ${timeoutMs / 1000} s` }));
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.on("exit", (status) => {
      clearTimeout(timer);
      resolve(status ?? 1);
    });
  });
  if (code !== 0) failed++;
}
process.exit(failed ? 1 : 0);

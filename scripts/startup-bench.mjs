#!/usr/bin/env node
// Start-up time and idle memory of `tandem serve`, three ways (run after `npm run build`):
//   source+tsx  the library's TypeScript sources through tsx (how bin/tandem.mjs ran before
//               the package was compiled),
//   dist+ts     the compiled library, the actors module in TypeScript (tsx loads it alone),
//   dist+js     the compiled library and a JavaScript actors module: no tsx at all.
// Each run: spawn → the "serving" line (start-up), then RSS after 2 s idle. Prints one JSON
// line per way with the median of RUNS runs. Usage: node scripts/startup-bench.mjs [runs]
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const runs = Number(process.argv[2] ?? 5);
const registryTs = join(root, "tests", "support", "serve-registry.ts");
const registryJs = join(root, "scripts", ".startup-registry.mjs");
// The same registry in JavaScript, beside the repo so that "tandem" resolves to the package itself.
writeFileSync(registryJs, readFileSync(registryTs, "utf8").replace(/\(c, n: number\)/, "(c, n)").replace(/ as number\[\]/, ""));
const oldBin = join(root, "scripts", ".startup-old-bin.mjs");
writeFileSync(oldBin, `import { register } from "tsx/esm/api";\nregister();\nconst { main } = await import(${JSON.stringify(join(root, "server", "cli.ts"))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);

const ways = {
  "source+tsx": { args: ["--conditions=tandem-source", oldBin, "serve", registryTs] },
  "dist+ts": { args: [join(root, "bin", "tandem.mjs"), "serve", registryTs] },
  "dist+js": { args: [join(root, "bin", "tandem.mjs"), "serve", registryJs] },
};

function rssKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

function once(args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [...args, "--memory", "--port", "0", "--log", "fatal"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no start within 30 s: ${err}`));
    }, 30_000);
    child.stderr.on("data", (chunk) => (err += chunk));
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (!out.includes("tandem: serving")) return;
      out = "";
      const startMs = Number(process.hrtime.bigint() - started) / 1e6;
      setTimeout(() => {
        const rss = rssKb(child.pid);
        clearTimeout(timer);
        child.once("exit", () => resolve({ startMs, rssMb: rss / 1024 }));
        child.kill("SIGTERM");
      }, 2000);
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
try {
  for (const [name, way] of Object.entries(ways)) {
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await once(way.args));
    console.log(JSON.stringify({ way: name, runs, startMs: Math.round(median(samples.map((s) => s.startMs))), idleRssMb: Math.round(median(samples.map((s) => s.rssMb)) * 10) / 10 }));
  }
} finally {
  rmSync(registryJs, { force: true });
  rmSync(oldBin, { force: true });
}

#!/usr/bin/env node
// `npm test`: the library build (dist/, as published), type check, import-cycle check, unit
// and integration tests (vitest, the package test among them), then the browser tests when present. Ends with one plain line `N passed, N failed, N skipped` for CI.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const bin = (name) => join("node_modules", ".bin", name);
const totals = { passed: 0, failed: 0, skipped: 0 };
let exitCode = 0;

function run(label, command, args) {
  console.log(`\n== ${label}: ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { stdio: "inherit", env: process.env });
  return result.status ?? 1;
}

mkdirSync("test-results", { recursive: true });

// 0. The library as published (scripts/build.mjs): the CLI, the demo server and the package
// test run the compiled JavaScript.
const build = run("build", "node", [join("scripts", "build.mjs")]);
if (build === 0) totals.passed++;
else {
  totals.failed++;
  exitCode = 1;
}

// 1. Types across the whole repo (library, tests, *.test-d.ts type tests).
const tsc = run("typecheck", bin("tsc"), ["--noEmit", "-p", "."]);
if (tsc === 0) totals.passed++;
else {
  totals.failed++;
  exitCode = 1;
}

// 2. No import cycles in client/, server/, shared/, demo/ (type imports included).
const cycles = run("import cycles", "node", [join("scripts", "check-cycles.mjs")]);
if (cycles === 0) totals.passed++;
else {
  totals.failed++;
  exitCode = 1;
}

// 3. vitest: unit and integration tests, with a JSON report to count from.
const vitestReport = join("test-results", "vitest.json");
rmSync(vitestReport, { force: true });
const extra = process.argv.slice(2);
const vitest = run("vitest", bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestReport}`, ...extra]);
if (existsSync(vitestReport)) {
  const report = JSON.parse(readFileSync(vitestReport, "utf8"));
  totals.passed += report.numPassedTests ?? 0;
  totals.failed += report.numFailedTests ?? 0;
  totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if ((report.numTotalTests ?? 0) === 0) exitCode = 1;
} else {
  totals.failed++;
}
if (vitest !== 0) exitCode = 1;

// 4. Browser tests (Playwright + Debian Chromium), when the e2e suite exists.
if (existsSync("playwright.config.ts")) {
  const e2eReport = join("test-results", "playwright.json");
  rmSync(e2eReport, { force: true });
  const e2e = spawnSync(bin("playwright"), ["test", "--reporter=list,json"], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: e2eReport, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
  });
  if (existsSync(e2eReport)) {
    const stats = JSON.parse(readFileSync(e2eReport, "utf8")).stats ?? {};
    totals.passed += (stats.expected ?? 0) + (stats.flaky ?? 0);
    totals.failed += stats.unexpected ?? 0;
    totals.skipped += stats.skipped ?? 0;
  } else {
    totals.failed++;
  }
  if (e2e.status !== 0) exitCode = 1;
}

console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(exitCode);

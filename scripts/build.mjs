#!/usr/bin/env node
// `npm run build`: the library as published — ESM JavaScript, declarations and source maps
// in dist/shared, dist/client, dist/server (tsconfig.build.json). dist/demo (the demo app,
// built by Vite) is left alone.
//
// Declarations: tsc rewrites the sources' relative `.ts` imports to `.js` in the JavaScript
// it emits (rewriteRelativeImportExtensions) but leaves them as written in `.d.ts` files.
// TypeScript 5.9 and 7 resolve `./actor.ts` inside a declaration file to `./actor.d.ts`, but
// older compilers and tools that read declarations with Node's rules (`.ts` next to the
// `.js` they describe) do not; `./actor.js` is the form every one of them reads. So the
// `.d.ts` files here say `.js`, like the JavaScript beside them.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
export const LIBRARY_FOLDERS = ["shared", "client", "server"];

/** Relative specifiers ending in .ts/.tsx/.mts/.cts, in `from "…"`, `import("…")` and `import "…"`. */
const RELATIVE_TS = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.([mc]?)tsx?(["'])/g;

function declarationFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...declarationFiles(path));
    else if (entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Written last by a build: its time says how old the whole build is. */
const STAMP = join(dist, ".library-built");

function newestSource(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return /\.[mc]?tsx?$/.test(path) ? stat.mtimeMs : 0;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestSource(join(path, entry)));
  return newest;
}

/** True when a build exists and no library source, tsconfig or this script changed since. */
export function libraryBuildIsFresh() {
  if (!existsSync(STAMP)) return false;
  const built = statSync(STAMP).mtimeMs;
  const inputs = [...LIBRARY_FOLDERS.map((folder) => join(root, folder)), join(root, "tsconfig.json"), join(root, "tsconfig.build.json"), fileURLToPath(import.meta.url)];
  return inputs.every((input) => newestSource(input) <= built && statSync(input).mtimeMs <= built);
}

/** Builds the library unless the build is fresh (for test runs that spawn bin/tandem.mjs). */
export function ensureLibraryBuilt(options = {}) {
  if (libraryBuildIsFresh()) return false;
  buildLibrary(options);
  return true;
}

export function buildLibrary({ log = console.log } = {}) {
  rmSync(STAMP, { force: true });
  for (const folder of LIBRARY_FOLDERS) rmSync(join(dist, folder), { recursive: true, force: true });
  const tsc = join(root, "node_modules", ".bin", "tsc");
  const result = spawnSync(tsc, ["-p", join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });
  if (result.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${result.status})`);
  let rewritten = 0;
  for (const folder of LIBRARY_FOLDERS) {
    for (const file of declarationFiles(join(dist, folder))) {
      const text = readFileSync(file, "utf8");
      const next = text.replace(RELATIVE_TS, (_, head, path, flavour, tail) => `${head}${path}.${flavour}js${tail}`);
      if (next !== text) {
        writeFileSync(file, next);
        rewritten++;
      }
    }
  }
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  log(`tandem: library built in dist/ (${rewritten} declaration files' imports rewritten to .js)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    // --if-stale (npm start, e2e, bench): skip the build when nothing it is made from changed.
    if (process.argv.includes("--if-stale")) ensureLibraryBuilt();
    else buildLibrary();
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}

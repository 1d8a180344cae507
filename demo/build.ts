/**
 * Builds the demo app (Vite, demo/ → dist/demo) when it is missing or older than its
 * sources (the demo, and the client library it bundles). Used by `npm start` and by the
 * browser tests, so a fresh checkout needs no separate build step.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const REPO_ROOT = here("..");
/** Where the built app lives (served by the demo server). */
export const DEMO_DIST = here("../dist/demo");

/** Everything the bundle is built from. */
const SOURCES = ["demo", "client", "shared", "vite.config.ts", "package-lock.json"].map((path) => join(REPO_ROOT, path));
const SKIP = new Set(["node_modules", "dist", ".data"]);

function newestMtime(path: string): number {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (SKIP.has(entry) || entry.endsWith(".md") || entry.endsWith(".png")) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** True when dist/demo exists and nothing it is built from changed since. */
export function demoBuildIsFresh(): boolean {
  const index = join(DEMO_DIST, "index.html");
  if (!existsSync(index)) return false;
  const built = statSync(index).mtimeMs;
  return SOURCES.every((source) => newestMtime(source) <= built);
}

/** Builds the demo unless the build is fresh (or `force`). Resolves with whether it built. */
export async function ensureDemoBuilt(options: { force?: boolean; log?: (line: string) => void } = {}): Promise<boolean> {
  if (!options.force && demoBuildIsFresh()) return false;
  options.log?.("Building the demo app (vite build)…");
  const started = Date.now();
  const { build } = await import("vite");
  await build({ configFile: join(REPO_ROOT, "vite.config.ts"), mode: "production", logLevel: "warn" });
  options.log?.(`Built dist/demo in ${Date.now() - started} ms`);
  return true;
}

/**
 * Where the bench gets its libraries from, so that a process never mixes two copies of yjs:
 *   - Tandem, and the yjs it uses, from the repo (`tandemYjs()`: the repo's own copy, the one
 *     the library imports — bench/node_modules has another copy of the same version);
 *   - the anchors from bench/node_modules (`anchor(name)`), installed by `npm run bench`.
 * bench/package.json puts bench/ in a package scope of its own, so the package's
 * self-reference (`import "tandem"`) does not resolve from here: bench files import the
 * entry points the package's "exports" name (shared/index.ts, client/index.ts,
 * server/index.ts) by path.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as YTypes from "yjs";
import { BENCH_DIR, REPO_DIR } from "./util.ts";

let rootYjs: Promise<typeof YTypes> | undefined;

/** The repo's yjs (ESM build), the same module instance Tandem's code uses. */
export function tandemYjs(): Promise<typeof YTypes> {
  rootYjs ??= (async () => {
    const require = createRequire(join(REPO_DIR, "package.json"));
    const dir = dirname(require.resolve("yjs/package.json"));
    const pkg = require("yjs/package.json") as { exports: { ".": { import: string } } };
    return (await import(pathToFileURL(join(dir, pkg.exports["."].import)).href)) as typeof YTypes;
  })();
  return rootYjs;
}

/** An anchor's module from bench/node_modules (`npm run bench` installs them). */
export async function anchor<T = any>(name: string): Promise<T> {
  const pkg = name.split("/").slice(0, name.startsWith("@") ? 2 : 1).join("/");
  if (!existsSync(join(BENCH_DIR, "node_modules", pkg, "package.json"))) {
    throw new Error(`${name} is not installed in bench/node_modules: run \`npm run bench\` (or npm install --prefix bench)`);
  }
  return (await import(name)) as T;
}

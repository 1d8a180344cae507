/**
 * A package-lock.json for a throwaway project, cut from this repo's lock: the entries its
 * dependencies need (their closure, optional ones included), at the paths the repo's tree
 * has them. `npm ci --offline` installs from it using only the tarballs `npm ci` left in the
 * npm cache: `npm install --offline <name>@<range>` would need the registry's package
 * documents, which `npm ci` never fetches, so it fails with ENOTCACHED on a CI machine.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}

interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

/** A dependency's own entry (a local tarball) placed at node_modules/<name>. */
export interface LocalPackage {
  readonly name: string;
  /** The spec in package.json, e.g. `file:../tandem-0.1.0.tgz`. */
  readonly spec: string;
  /** Its package.json, as packed. */
  readonly manifest: LockEntry & { name: string; version: string };
  /** The tarball's sha512 integrity. */
  readonly integrity: string;
}

/** What a lock entry repeats of a package's manifest. */
const LOCK_FIELDS = ["version", "license", "dependencies", "optionalDependencies", "peerDependencies", "peerDependenciesMeta", "bin", "engines"] as const;

/** Where Node would find `name` required from the package at `from` ("" is the root). */
function locate(packages: Record<string, LockEntry>, from: string, name: string): string | null {
  let base = from;
  for (;;) {
    const key = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
    if (packages[key] !== undefined) return key;
    if (base === "") return null;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut < 0 ? "" : base.slice(0, cut);
  }
}

/**
 * The lock of a project named `name` depending on `registryDeps` (names, at the versions this
 * repo's lock has) and on local tarballs. Throws if a required package is not in the repo's lock.
 */
export function offlineLockfile(repoRoot: string, name: string, registryDeps: Record<string, "dependencies" | "devDependencies">, locals: readonly LocalPackage[]): { manifest: Record<string, unknown>; lock: Record<string, unknown> } {
  const repo = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as Lockfile;
  const packages: Record<string, LockEntry> = { ...repo.packages };
  const dependencies: Record<string, string> = {};
  const devDependencies: Record<string, string> = {};
  for (const [dep, kind] of Object.entries(registryDeps)) {
    const entry = packages[`node_modules/${dep}`];
    if (entry?.version === undefined) throw new Error(`${dep} is not in package-lock.json`);
    (kind === "dependencies" ? dependencies : devDependencies)[dep] = entry.version;
  }
  const out: Record<string, LockEntry> = {};
  for (const local of locals) {
    dependencies[local.name] = local.spec;
    const fields = Object.fromEntries(LOCK_FIELDS.filter((field) => local.manifest[field] !== undefined).map((field) => [field, local.manifest[field]]));
    out[`node_modules/${local.name}`] = { ...fields, resolved: local.spec, integrity: local.integrity };
    packages[`node_modules/${local.name}`] = out[`node_modules/${local.name}`]!;
  }
  const queue: { from: string; dep: string; optional: boolean }[] = [...Object.keys(dependencies), ...Object.keys(devDependencies)].map((dep) => ({ from: "", dep, optional: false }));
  const visited = new Set<string>();
  // Bounded: each lock entry is expanded once, and the lock has finitely many.
  while (queue.length > 0) {
    const { from, dep, optional } = queue.shift()!;
    const key = locate(packages, from, dep);
    if (key === null) {
      if (optional) continue;
      throw new Error(`${dep} (needed by ${from || "the project"}) is not in package-lock.json`);
    }
    if (visited.has(key)) continue;
    visited.add(key);
    // The repo's dev/peer/optional flags describe the repo's tree; npm works out this one's.
    const { dev: _dev, peer: _peer, devOptional: _devOptional, ...entry } = packages[key]!;
    out[key] = entry;
    for (const next of Object.keys(entry.dependencies ?? {})) queue.push({ from: key, dep: next, optional: false });
    for (const next of Object.keys(entry.optionalDependencies ?? {})) queue.push({ from: key, dep: next, optional: true });
  }
  const manifest = { name, private: true, type: "module", dependencies, devDependencies };
  return { manifest, lock: { name, lockfileVersion: 3, requires: true, packages: { "": { name, dependencies, devDependencies }, ...out } } };
}

#!/usr/bin/env node
// Import-cycle check over client/, server/, shared/ and demo/: reads every .ts file, takes
// each `import … from "…"` / `export … from "…"` / `import("…")` with a relative path (type
// imports included: a type-only cycle is still a tangle), resolves it to a file and looks for
// strongly connected components. Prints each cycle and exits 1 when one is not allowlisted.
// Run by `npm test` (scripts/test.mjs); on its own: `node scripts/check-cycles.mjs [root]`.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOTS = ["client", "server", "shared", "demo"];

// KNOWN_CYCLES: the allowlist. Cycles known to remain, each as the sorted list of the files of
// its strongly connected component joined by " ↔ ". Empty it as the cycles are removed; a
// listed cycle that no longer exists fails the check too, so the entry goes with it.
const KNOWN_CYCLES = new Set([]);

// The repo root, or the directory given as the first argument (tests/check-cycles.test.ts).
const root = process.argv[2] === undefined ? resolve(dirname(new URL(import.meta.url).pathname), "..") : resolve(process.argv[2]);

function listTs(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTs(path));
    else if (/\.(ts|tsx|mts)$/.test(name) && !/\.d\.ts$/.test(name)) out.push(path);
  }
  return out;
}

const SPECIFIER = /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function stripComments(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

function resolveImport(from, specifier) {
  if (!specifier.startsWith(".")) return undefined;
  const base = resolve(dirname(from), specifier);
  const candidates = [base, base.replace(/\.(m?js)$/, ".ts"), `${base}.ts`, `${base}.tsx`, join(base, "index.ts")];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile() && /\.(ts|tsx|mts)$/.test(c));
}

const files = ROOTS.flatMap((dir) => listTs(join(root, dir)));
const graph = new Map();
for (const file of files) {
  const edges = new Set();
  const source = stripComments(readFileSync(file, "utf8"));
  for (const match of source.matchAll(SPECIFIER)) {
    const target = resolveImport(file, match[1] ?? match[2]);
    if (target !== undefined && target !== file) edges.add(target);
  }
  graph.set(file, edges);
}

// Tarjan's strongly connected components, iterative (no recursion depth limit).
function components() {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const result = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [[start, [...(graph.get(start) ?? [])], 0]];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [node, edges] = frame;
      if (frame[2] < edges.length) {
        const next = edges[frame[2]++];
        if (!graph.has(next)) continue;
        if (!index.has(next)) {
          index.set(next, counter);
          low.set(next, counter++);
          stack.push(next);
          onStack.add(next);
          work.push([next, [...graph.get(next)], 0]);
        } else if (onStack.has(next)) {
          low.set(node, Math.min(low.get(node), index.get(next)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === index.get(node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        if (component.length > 1) result.push(component);
      }
    }
  }
  return result;
}

// One concrete cycle inside a component, for the message: a shortest path back to the start.
function cycleThrough(component) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const next of graph.get(queue[i])) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [];
        for (let at = queue[i]; at !== undefined; at = previous.get(at)) path.unshift(at);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, queue[i]);
        queue.push(next);
      }
    }
  }
  return [start];
}

const rel = (file) => relative(root, file);
let failures = 0;
let known = 0;
const seen = new Set();
for (const component of components()) {
  const key = component.map(rel).sort().join(" ↔ ");
  seen.add(key);
  const path = cycleThrough(component).map(rel).join(" → ");
  if (KNOWN_CYCLES.has(key)) {
    known++;
    console.log(`known cycle (allowlisted in scripts/check-cycles.mjs): ${path}${component.length > 2 ? `  [${component.length} files: ${key}]` : ""}`);
  } else {
    failures++;
    console.log(`import cycle: ${path}${component.length > 2 ? `  [${component.length} files: ${key}]` : ""}`);
  }
}
for (const key of KNOWN_CYCLES) {
  if (!seen.has(key)) {
    failures++;
    console.log(`allowlisted cycle no longer exists, remove it from KNOWN_CYCLES: ${key}`);
  }
}
console.log(`${files.length} files, ${failures} import cycle(s)${known > 0 ? `, ${known} allowlisted` : ""}`);
process.exit(failures > 0 ? 1 : 0);

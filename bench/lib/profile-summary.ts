/**
 * Summarizes V8 .cpuprofile files (from node --cpu-prof) by self time: the top functions,
 * and the share of time per source file; with --inclusive PATTERN, the total (self +
 * callees) time of the functions whose "name file" matches PATTERN.
 * Usage: tsx bench/lib/profile-summary.ts <file…> [--top N] [--inclusive PATTERN]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

process.stdout.on("error", () => process.exit(0)); // piped into head

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const inclusiveAt = args.indexOf("--inclusive");
const inclusive = inclusiveAt >= 0 ? new RegExp(args[inclusiveAt + 1]!) : undefined;
const files = args.filter((arg, i) => !arg.startsWith("--") && (topAt < 0 || i !== topAt + 1) && (inclusiveAt < 0 || i !== inclusiveAt + 1));

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((sum, t) => sum + t, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, time] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const short = url.replace(/^file:\/\//, "").replace(/.*\/node_modules\//, "~/").replace(/.*\/work\/main\//, "");
    const key = `${functionName || "(anonymous)"} ${short ? `${short}:${lineNumber + 1}` : ""}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + time);
    const fileKey = short || functionName;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + time);
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  console.log(`\n== ${file}: ${(total / 1000).toFixed(0)} ms sampled`);
  for (const [key, time] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(time)}  ${key}`);
  if (inclusive) {
    // Total time under each matching frame (not double-counting recursion below a match).
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const label = (node: Node) => `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.replace(/.*\/work\/main\//, "").replace(/.*\/node_modules\//, "~/")}:${node.callFrame.lineNumber + 1}`;
    const totals = new Map<string, number>();
    for (const [id, time] of self) {
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const key = label(byId.get(at)!);
        if (inclusive.test(key) && !seen.has(key)) {
          seen.add(key);
          totals.set(key, (totals.get(key) ?? 0) + time);
        }
      }
    }
    console.log(`-- inclusive /${inclusive.source}/`);
    for (const [key, time] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(time)}  ${key}`);
  }
  console.log("-- by file");
  for (const [key, time] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${pct(time)}  ${key}`);
}

/** scripts/check-cycles.mjs on small trees: type-only and re-export cycles fail it, a tree without cycles passes. */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, expect, test } from "vitest";

const script = join(import.meta.dirname, "..", "scripts", "check-cycles.mjs");
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function check(files: Record<string, string>): { status: number | null; out: string } {
  const root = mkdtempSync(join(tmpdir(), "tandem-cycles-"));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const result = spawnSync(process.execPath, [script, root], { encoding: "utf8" });
  return { status: result.status, out: result.stdout };
}

test("a cycle of type imports across folders fails, and is printed", () => {
  const { status, out } = check({
    "shared/a.ts": 'import type { B } from "./b.ts";\nexport type A = { b: B };\n',
    "shared/b.ts": 'import type {\n  C,\n} from "../client/c.ts";\nexport type B = C;\n',
    "client/c.ts": 'export type { A as C } from "../shared/a.ts";\n',
  });
  expect(status).toBe(1);
  expect(out).toContain("import cycle: client/c.ts → shared/a.ts → shared/b.ts → client/c.ts");
  expect(out).toContain("1 import cycle(s)");
});

test("a tree without cycles passes; imports in comments and of packages do not count", () => {
  const { status, out } = check({
    "shared/a.ts": 'import * as Y from "yjs";\n// import { b } from "./b.ts";\nexport const a = Y;\n',
    "shared/b.ts": 'import { a } from "./a.ts";\nexport const b = a;\n',
    "server/s.ts": 'import { b } from "../shared/b.ts";\nexport const s = () => import("../shared/a.ts").then(() => b);\n',
  });
  expect(out).toContain("0 import cycle(s)");
  expect(status).toBe(0);
});

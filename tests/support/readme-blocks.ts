/**
 * The TypeScript code blocks of a README section, verbatim, for tests that compile and run
 * them (so the test breaks when the README drifts from the package).
 */
import { readFileSync } from "node:fs";

export interface CodeBlock {
  /** The file the block names in its first line (`// actors.ts`), if it names one. */
  readonly file: string | null;
  readonly code: string;
  /** 1-based line of the opening fence in the README. */
  readonly line: number;
}

/** The ```ts blocks between the heading `## <title>` and the next `## ` heading. */
export function readmeBlocks(readmePath: string, title: string): CodeBlock[] {
  const lines = readFileSync(readmePath, "utf8").split("\n");
  const start = lines.findIndex((line) => line.trim() === `## ${title}`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const blocks: CodeBlock[] = [];
  let open: { line: number; body: string[] } | null = null;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (open === null && /^## /.test(line)) break;
    if (open === null && /^```(ts|typescript)\s*$/.test(line)) open = { line: i + 1, body: [] };
    else if (open !== null && /^```\s*$/.test(line)) {
      const code = `${open.body.join("\n")}\n`;
      const named = /^\/\/ ([\w.-]+\.ts)\s*$/.exec(open.body[0] ?? "");
      blocks.push({ file: named?.[1] ?? null, code, line: open.line });
      open = null;
    } else if (open !== null) open.body.push(line);
  }
  return blocks;
}

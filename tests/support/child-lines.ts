/**
 * A child process's stdout as lines: every line seen so far, and a bounded wait for the
 * first line matching a pattern (already seen, or still to come).
 */
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface ChildLines {
  readonly seen: readonly string[];
  next(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function childLines(child: ChildProcess): ChildLines {
  const seen: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    seen.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  return {
    seen,
    next(pattern, timeoutMs = 10_000) {
      const found = seen.find((line) => pattern.test(line));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line ${pattern} within ${timeoutMs} ms; last lines ${JSON.stringify(seen.slice(-5))}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}

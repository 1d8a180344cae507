/**
 * A `tandem serve tests/support/hostile-registry.ts` child process on the file driver in a
 * temp dir, for tests that throw bad input at a real server: whether it is still alive (and
 * why not), its error log lines, its resident memory and the size of its data dir. Each start
 * gets a fresh dir; stop() kills the process and removes the dir.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ServeChild } from "./serve-child.ts";

export const HOSTILE_REGISTRY = fileURLToPath(new URL("./hostile-registry.ts", import.meta.url));

export class ServedTarget {
  private constructor(
    readonly child: ServeChild,
    readonly dir: string,
    readonly url: string,
  ) {}

  static async start(prefix: string): Promise<ServedTarget> {
    const dir = await mkdtemp(join(tmpdir(), `tandem-${prefix}-`));
    const child = ServeChild.start(HOSTILE_REGISTRY, dir, { log: "warn" });
    try {
      const url = await child.ready(30_000);
      return new ServedTarget(child, dir, url);
    } catch (error) {
      await child.kill();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get pid(): number {
    return this.child.child.pid!;
  }

  get alive(): boolean {
    return this.child.exit === null;
  }

  /** Why the process is gone (exit code/signal, the end of its output), or null if alive. */
  death(): string | null {
    if (this.child.exit === null) return null;
    const { code, signal } = this.child.exit;
    return `the server process exited (code ${code}, signal ${signal}); output tail:\n${this.tail()}`;
  }

  /** The last lines the server printed (stdout: its JSON log; stderr: crashes). */
  tail(chars = 3000): string {
    return `${this.child.stdout.slice(-chars)}\n${this.child.stderr.slice(-chars)}`.trim();
  }

  /** Log lines at level error or fatal (pino: 50, 60), and anything that looks like a crash on stderr. */
  errorLines(): string[] {
    const lines = this.child.stdout.split("\n").filter((line) => /"level":(50|60)\b/.test(line));
    const crash = this.child.stderr.split("\n").filter((line) => /Error|error|at /.test(line));
    return [...lines, ...crash].map((line) => line.slice(0, 400));
  }

  /** Resident memory of the server process in bytes (VmRSS), or null once it is gone. */
  rssBytes(): number | null {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      return match === null ? null : Number(match[1]) * 1024;
    } catch {
      return null;
    }
  }

  /** Bytes of every file under the data dir. */
  async dataBytes(): Promise<number> {
    return sizeOf(this.dir);
  }

  async stop(): Promise<void> {
    await this.child.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function sizeOf(path: string): Promise<number> {
  let total = 0;
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += await sizeOf(full);
    else total += await stat(full).then((s) => s.size, () => 0);
  }
  return total;
}

/**
 * A real `tandem serve <module> --port 0 --dir <dir>` child process, for tests that kill it.
 *
 * The child is `node bin/tandem.mjs …` itself (the compiled CLI registers tsx in-process for a .ts module), not
 * an npx/tsx wrapper: SIGKILL reaches the server, and no grandchild is left running.
 * Every child started here is also SIGKILLed when the test process exits, whatever happens.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/tandem.mjs", import.meta.url));

const live = new Set<ChildProcess>();
let exitHook = false;
function killAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class ServeChild {
  /** http://127.0.0.1:<port>, once the CLI printed it. */
  url: string | null = null;
  port = 0;
  stdout = "";
  stderr = "";
  exit: Exit | null = null;
  readonly exited: Promise<Exit>;
  private readonly listening: Promise<string>;

  private constructor(readonly child: ChildProcess) {
    live.add(child);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        live.delete(child);
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    child.stderr!.on("data", (chunk) => {
      this.stderr += String(chunk);
      if (this.stderr.length > 200_000) this.stderr = this.stderr.slice(-100_000);
    });
    this.listening = new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        this.stdout += `${line}\n`;
        // server/cli.ts: `tandem: serving <actors> on http://127.0.0.1:PORT (file driver in DIR | cluster node …)`
        const match = /^tandem: serving .* on (http:\/\/127\.0\.0\.1:(\d+)) /.exec(line);
        if (match !== null && this.url === null) {
          this.url = match[1]!;
          this.port = Number(match[2]);
          resolve(this.url);
        }
      });
      void this.exited.then(({ code, signal }) =>
        reject(new Error(`tandem serve exited (code ${code}, signal ${signal}) before listening; stderr: ${this.stderr.slice(-2000)}`)),
      );
    });
    this.listening.catch(() => undefined);
  }

  /** Starts `tandem serve <module> --port 0 --dir <dir> --log <level>` (no --dir when `dir` is null: e.g. with --redis in extraArgs). */
  static start(module: string, dir: string | null, { log = "warn", extraArgs = [] as string[] } = {}): ServeChild {
    killAllOnExit();
    const where = dir === null ? [] : ["--dir", dir];
    const child = spawn(process.execPath, [BIN, "serve", module, "--port", "0", ...where, "--log", log, ...extraArgs], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new ServeChild(child);
  }

  /** Resolves with the URL once the server listens; rejects if it exits first or after `timeoutMs`. */
  async ready(timeoutMs = 20_000): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`tandem serve did not listen within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.listening, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL, and wait until the process is reaped (so its LOCK is seen as stale). */
  async kill(): Promise<Exit> {
    if (this.exit === null) this.child.kill("SIGKILL");
    return this.exited;
  }

  /** SIGTERM (a graceful stop); SIGKILL if it has not exited after `ms`. */
  async terminate(ms = 10_000): Promise<Exit> {
    if (this.exit !== null) return this.exit;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

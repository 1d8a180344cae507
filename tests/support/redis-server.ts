/**
 * A real redis-server (/usr/bin/redis-server) for a test file: a child process in the
 * foreground (`--daemonize no`, so it dies with us and a taken port makes it exit instead of
 * silently talking to someone else's Redis), on a free port of 127.0.0.1, with its own
 * directory for AOF files. Ready once PING answers. Stopped by its PID; `kill` (SIGKILL),
 * `pause`/`resume` (SIGSTOP/SIGCONT) and `restart` (same port and directory) for tests.
 * Every server started here is SIGKILLed when the test process exits, whatever happens.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REDIS_SERVER = "/usr/bin/redis-server";

export interface RedisServerOptions {
  /** AOF on (default false). */
  appendonly?: boolean;
  /** AOF fsync policy (default "always" when appendonly). */
  appendfsync?: "always" | "everysec" | "no";
  /** Replicate this server ("host port" of the primary). */
  replicaof?: { host: string; port: number };
  /** Extra `--name value` arguments. */
  extra?: readonly string[];
}

const live = new Set<ChildProcess>();
let exitHook = false;
function killAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

/** A port nobody listens on right now (bound and released; the server's own bind is the real check). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something answers PING with PONG on the port. */
export function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let answer = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      answer += String(chunk);
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
    socket.on("error", () => done(false));
  });
}

export class RedisServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  output = "";

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts a server on a free port (a few ports are tried if one is taken meanwhile). */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    killAllOnExit();
    const dir = await mkdtemp(join(tmpdir(), "tandem-redis-"));
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      if (await ping(port, 200)) continue; // someone else's server: never use it
      const server = new RedisServer(port, dir, options);
      try {
        await server.launch();
        return server;
      } catch (error) {
        lastError = error;
      }
    }
    await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start redis-server: ${String(lastError)}`);
  }

  private args(): string[] {
    const { appendonly = false, appendfsync = "always", replicaof, extra = [] } = this.options;
    // shutdown-timeout 0: a stopping primary does not wait for lagging (or killed) replicas;
    // repl-diskless-sync-delay 0: a replica syncs at once (the default waits 5 s for more replicas).
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--daemonize", "no", "--save", "", "--dir", this.dir, "--appendonly", appendonly ? "yes" : "no", "--shutdown-timeout", "0", "--repl-diskless-sync-delay", "0"];
    if (appendonly) args.push("--appendfsync", appendfsync);
    if (replicaof !== undefined) args.push("--replicaof", replicaof.host, String(replicaof.port));
    return [...args, ...extra];
  }

  /** Spawns the server and waits (bounded) until PING answers; rejects if it exits first. */
  private async launch(): Promise<void> {
    const child = spawn(REDIS_SERVER, this.args(), { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    live.add(child);
    let exited = false;
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        exited = true;
        live.delete(child);
        resolve();
      }),
    );
    const collect = (chunk: Buffer) => {
      this.output += String(chunk);
      if (this.output.length > 100_000) this.output = this.output.slice(-50_000);
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    for (let i = 0; i < 200; i++) {
      if (exited) throw new Error(`redis-server exited at start: ${this.output.slice(-500)}`);
      if (await ping(this.port, 200)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    child.kill("SIGKILL");
    throw new Error("redis-server did not answer PING in time");
  }

  /** SIGKILL (a crash): nothing is flushed beyond what its fsync policy already wrote. */
  async kill(): Promise<void> {
    this.child?.kill("SIGKILL");
    await this.exited;
  }

  /** SIGSTOP: the server holds its connections but answers nothing. */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  resume(): void {
    this.child?.kill("SIGCONT");
  }

  /** Starts it again on the same port and directory (after kill or stop). */
  async restart(): Promise<void> {
    await this.exited;
    await this.launch();
  }

  /** Stops the server (SIGTERM, then SIGKILL after 2 s) and removes its directory. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Issue 12, item 8: a data directory the file driver cannot use — a file instead of a
 * directory, a directory it may not write, one locked by another running server — used to
 * start a server that then answered 500 to everything. Now `listen()` rejects with a message
 * naming the directory, and `tandem serve` exits non-zero with that message on stderr.
 */
import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";
import { createServer, fileDriver } from "tandem/server";
import { ROOT, ServeChild } from "./support/serve-child.ts";
import { registry } from "./support/serve-registry.ts";

const REGISTRY = fileURLToPath(new URL("./support/serve-registry.ts", import.meta.url));
const BIN = fileURLToPath(new URL("../bin/tandem.mjs", import.meta.url));

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-data-dir-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `listen()` of an in-process server on `dir`: the error it rejects with (null: it listened). */
async function listenError(dir: string): Promise<string | null> {
  const server = createServer(registry, { driver: fileDriver({ dir, log: { warn: () => {}, error: () => {} } as never }), logger: false });
  try {
    await server.listen();
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await server.close();
  }
}

/** Runs `tandem serve` on `dir` to its exit (it must exit by itself): its code and stderr. */
function serveToExit(dir: string, options: { uid?: number; gid?: number } = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "serve", REGISTRY, "--port", "0", "--dir", dir, "--log", "fatal"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], ...options });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    child.stdout.on("data", (chunk) => (stdout += String(chunk)));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tandem serve did not exit within 20 s; stdout: ${stdout}; stderr: ${stderr}`));
    }, 20_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

test("a file instead of a directory: listen() rejects and tandem serve exits non-zero, naming the directory", async () => {
  const path = join(await tempDir(), "not-a-dir");
  await writeFile(path, "hello");
  const message = await listenError(path);
  expect(message).toContain(`the data directory ${path} cannot be used`);
  const run = await serveToExit(path);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain(`tandem: Tandem cannot start: fileDriver: the data directory ${path} cannot be used`);
  expect(run.stdout).not.toContain("serving");
});

test("a directory that cannot be written: tandem serve exits non-zero with a clear message", async () => {
  const dir = await tempDir();
  await chmod(dir, 0o555);
  cleanup.push(() => chmod(dir, 0o755));
  // Root writes anywhere: run the server as an unprivileged user then (it can read the code).
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) expect(await listenError(dir)).toContain(`the data directory ${dir} cannot be used`);
  const run = await serveToExit(dir, asRoot ? { uid: 65534, gid: 65534 } : {});
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain(`the data directory ${dir} cannot be used`);
  expect(run.stderr).toMatch(/EACCES|EROFS|EPERM/);
});

test("a directory locked by another running server: listen() rejects and a second tandem serve exits non-zero", async () => {
  const dir = await tempDir();
  const first = ServeChild.start(REGISTRY, dir);
  cleanup.push(() => first.terminate());
  await first.ready();
  const message = await listenError(dir);
  expect(message).toContain("is in use by process");
  const run = await serveToExit(dir);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain(`is in use by process ${first.child.pid}`);
  // The first server is unharmed.
  const response = await fetch(`${first.url}/openapi.json`);
  expect(response.status).toBe(200);
});

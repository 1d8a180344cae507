/**
 * Issue 15 (cross-origin): a browser app served from another origin uses the server over
 * real HTTP and WebSockets. One set of allowed origins (`allowedOrigins`, or `cors.origins`)
 * decides the WebSocket upgrade, the HTTP actions and the CORS headers; preflights of allowed
 * origins are answered, others refused without CORS headers; bad or conflicting options are
 * refused at createServer and by `tandem serve`, and nothing starts.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { actor, setup } from "tandem";
import { createServer, type ServerOptions } from "tandem/server";
import { ServeChild } from "./support/serve-child.ts";
import { useNetwork, upgradeStatus } from "./support/raw-socket.ts";

const counter = actor({
  state: { n: 0 },
  actions: { inc: (c) => ++c.state.n, read: (c) => c.state.n },
});
const registry = setup({ use: { counter } });

const net = useNetwork();
const APP = "http://app.example:5173";
const EVIL = "http://evil.example";
const call = JSON.stringify({ key: ["k"], mode: "getOrCreate", args: [] });

interface Answer {
  status: number;
  headers: Headers;
  body: { result?: unknown; error?: { code: string } } | null;
}

async function request(url: string, method: "POST" | "OPTIONS" | "GET", headers: Record<string, string>, body?: string): Promise<Answer> {
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === "" ? null : (JSON.parse(text) as Answer["body"]) };
}

const inc = (base: string, origin?: string) =>
  request(`${base}/actors/counter/actions/inc`, "POST", { "content-type": "application/json", "x-tandem-params": "{}", ...(origin === undefined ? {} : { origin }) }, call);

const preflight = (base: string, origin: string, path = "/actors/counter/actions/inc") =>
  request(`${base}${path}`, "OPTIONS", { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-tandem-params" });

async function read(server: { client: unknown }): Promise<number> {
  return (server.client as { counter: { getOrCreate(key: string): { read(): Promise<number> } } }).counter.getOrCreate("k").read();
}

describe("without cors (the default)", () => {
  test("no CORS headers and no preflight answer, even for an allowed origin: as before", async () => {
    const server = await net.server(registry, { allowedOrigins: [APP] });
    const answer = await inc(server.url, APP);
    expect(answer.body?.result).toBe(1);
    expect(answer.headers.get("access-control-allow-origin")).toBeNull();
    expect((await preflight(server.url, APP)).status).toBe(404);
  });
});

describe("cors with a list of origins", () => {
  const options: ServerOptions = { cors: [APP] };

  test("a preflight from an allowed origin gets 204 with the client's methods and headers; the call's answer names the origin", async () => {
    const server = await net.server(registry, options);
    const answer = await preflight(server.url, APP);
    expect(answer.status).toBe(204);
    expect(answer.headers.get("access-control-allow-origin")).toBe(APP);
    expect(answer.headers.get("access-control-allow-methods")).toContain("POST");
    expect(answer.headers.get("access-control-allow-headers")?.split(/,\s*/)).toEqual(expect.arrayContaining(["content-type", "x-tandem-params", "x-tandem-key"]));
    expect(answer.headers.get("access-control-max-age")).toBe("600");
    expect(answer.headers.get("vary")).toContain("Origin");
    expect(answer.headers.get("access-control-allow-credentials")).toBeNull();
    const called = await inc(server.url, APP);
    expect(called.status).toBe(200);
    expect(called.body?.result).toBe(1);
    expect(called.headers.get("access-control-allow-origin")).toBe(APP);
    expect(called.headers.get("vary")).toContain("Origin");
    const openapi = await request(`${server.url}/openapi.json`, "GET", { origin: APP });
    expect(openapi.headers.get("access-control-allow-origin")).toBe(APP);
  });

  test("a refused origin: preflight and call get 403 without CORS headers, and nothing runs", async () => {
    const server = await net.server(registry, options);
    for (const origin of [EVIL, `${APP}.evil.example`, "null", APP.replace("http:", "https:")]) {
      const answer = await preflight(server.url, origin);
      expect(answer.status, origin).toBe(403);
      expect(answer.headers.get("access-control-allow-origin"), origin).toBeNull();
      expect(answer.body?.error?.code).toBe("forbidden");
      const called = await inc(server.url, origin);
      expect(called.status, origin).toBe(403);
      expect(called.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
    expect(await read(server)).toBe(0);
  });

  test("the same origins, and only they, may open a WebSocket", async () => {
    const server = await net.server(registry, options);
    expect(await upgradeStatus(server.url, { Origin: APP })).toBe(101);
    expect(await upgradeStatus(server.url, { Origin: EVIL })).toBe(403);
    expect(await upgradeStatus(server.url, {})).toBe(101);
  });
});

describe("cors options", () => {
  test("cors: true admits every origin (HTTP and WebSocket), without credentials", async () => {
    const server = await net.server(registry, { cors: true });
    const answer = await preflight(server.url, EVIL);
    expect(answer.status).toBe(204);
    expect(answer.headers.get("access-control-allow-origin")).toBe(EVIL);
    expect(answer.headers.get("access-control-allow-credentials")).toBeNull();
    expect((await inc(server.url, EVIL)).headers.get("access-control-allow-origin")).toBe(EVIL);
    expect(await upgradeStatus(server.url, { Origin: EVIL })).toBe(101);
  });

  test("cors: true with allowedOrigins uses those origins; credentials and maxAgeSeconds are sent", async () => {
    const server = await net.server(registry, { allowedOrigins: [APP], cors: { credentials: true, maxAgeSeconds: 60 } });
    const answer = await preflight(server.url, APP);
    expect(answer.headers.get("access-control-allow-credentials")).toBe("true");
    expect(answer.headers.get("access-control-max-age")).toBe("60");
    expect((await inc(server.url, APP)).headers.get("access-control-allow-credentials")).toBe("true");
    expect((await preflight(server.url, EVIL)).status).toBe(403);
    expect(await upgradeStatus(server.url, { Origin: EVIL })).toBe(403);
  });

  test("a function decides per origin; one that throws refuses, and the server keeps serving", async () => {
    const server = await net.server(registry, {
      cors: {
        origins: (origin) => {
          if (origin === EVIL) throw new Error("the app's check failed");
          return origin.endsWith(".trusted.example");
        },
      },
    });
    expect((await preflight(server.url, "https://a.trusted.example")).status).toBe(204);
    expect((await preflight(server.url, EVIL)).status).toBe(403);
    expect((await inc(server.url, EVIL)).status).toBe(403);
    expect(await upgradeStatus(server.url, { Origin: EVIL })).toBe(403);
    expect((await inc(server.url, "https://a.trusted.example")).body?.result).toBe(1);
  });

  test("bad or conflicting options are refused with invalid_arguments before anything starts", () => {
    const bad: ServerOptions[] = [
      { allowedOrigins: ["https://app.example/"] },
      { allowedOrigins: ["https://app.example/path"] },
      { allowedOrigins: ["app.example"] },
      { allowedOrigins: ["null"] },
      { allowedOrigins: ["file:///tmp"] },
      { allowedOrigins: [42 as never] },
      { allowedOrigins: "every" as never },
      { cors: ["HTTPS://APP.EXAMPLE"] },
      { cors: { origins: ["https://app.example:443"] } },
      { cors: { credentials: true } },
      { cors: { origins: true, credentials: true } },
      { cors: { origins: "*", credentials: true } },
      { cors: { credentials: "yes" as never, origins: [APP] } },
      { cors: { maxAgeSeconds: -1 } },
      { cors: { maxAgeSeconds: 1.5 } },
      { cors: { maxAgeSeconds: 10_000_000 } },
      { cors: 7 as never },
      { allowedOrigins: [APP], cors: { origins: [APP] } },
      { allowedOrigins: [APP], cors: [APP] },
    ];
    for (const options of bad) {
      let error: unknown = null;
      try {
        createServer(registry, { logger: false, ...options });
      } catch (caught) {
        error = caught;
      }
      expect((error as { code?: string } | null)?.code, JSON.stringify(options)).toBe("invalid_arguments");
    }
    // A near miss says what was meant, and a huge value is not echoed whole.
    expect(() => createServer(registry, { logger: false, allowedOrigins: ["https://app.example/"] })).toThrow("did you mean https://app.example?");
    expect(() => createServer(registry, { logger: false, allowedOrigins: [`https://${"a".repeat(200_000)}/x`] })).toThrow(/characters\)/);
  });
});

describe("tandem serve --allowed-origin / --cors", () => {
  const REGISTRY = fileURLToPath(new URL("./support/serve-registry.ts", import.meta.url));
  const dirs: string[] = [];
  const dataDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "tandem-cors-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  test("--allowed-origin (repeatable) admits those origins with CORS; others are refused", async () => {
    const child = ServeChild.start(REGISTRY, await dataDir(), { log: "fatal", extraArgs: ["--allowed-origin", APP, "--allowed-origin", "https://other.example"] });
    try {
      const url = await child.ready();
      for (const origin of [APP, "https://other.example"]) {
        const answer = await preflight(url, origin);
        expect(answer.status, origin).toBe(204);
        expect(answer.headers.get("access-control-allow-origin")).toBe(origin);
      }
      expect((await preflight(url, EVIL)).status).toBe(403);
      expect(await upgradeStatus(url, { Origin: APP })).toBe(101);
      expect(await upgradeStatus(url, { Origin: EVIL })).toBe(403);
    } finally {
      await child.terminate();
    }
  });

  test("--cors alone admits every origin", async () => {
    const child = ServeChild.start(REGISTRY, await dataDir(), { log: "fatal", extraArgs: ["--cors"] });
    try {
      const url = await child.ready();
      expect((await preflight(url, EVIL)).headers.get("access-control-allow-origin")).toBe(EVIL);
    } finally {
      await child.terminate();
    }
  });

  test("an --allowed-origin that is no origin: exit 2 with the reason before the actors module loads, nothing served", async () => {
    const bin = fileURLToPath(new URL("../bin/tandem.mjs", import.meta.url));
    // A module that does not exist: the flags are checked before any user code is loaded.
    const missing = join(tmpdir(), "no-such-actors-module.ts");
    const child = spawn(process.execPath, [bin, "serve", missing, "--memory", "--port", "0", "--allowed-origin", "https://app.example/"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += String(chunk)));
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    const code = await new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
    expect(code).toBe(2);
    expect(stderr).toContain("--allowed-origin");
    expect(stderr).toContain("did you mean https://app.example?");
    expect(stdout).not.toContain("serving");
  });
});

/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh project
 * (offline, from the npm cache), the README's quick start copied out of README.md verbatim,
 * type-checked by the consumer's TypeScript (strict, NodeNext, skipLibCheck off, no path
 * aliases; and once more without the DOM lib, as a Node-only app), compiled, and run with
 * plain `node` — no tsx, no bundler. Then the
 * installed `tandem serve` runs the README's actors.ts (loaded through tsx by the CLI) and a
 * plain-node client talks to it over HTTP and the WebSocket.
 *
 * TypeScript 5.x is `node_modules/typescript5` (the devDependency `typescript5:
 * npm:typescript@5`); TypeScript 7 is the repo's own `typescript`.
 */
import { type ChildProcess, spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { offlineLockfile } from "./support/offline-lockfile.ts";
import { type CodeBlock, readmeBlocks } from "./support/readme-blocks.ts";
import { ROOT } from "./support/serve-child.ts";

const README = join(ROOT, "README.md");
const TSC_7 = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const TSC_5 = join(ROOT, "node_modules", "typescript5", "bin", "tsc");
const SLOW = 120_000;

/** The environment of child npm/node processes: none of the outer `npm test`'s npm_* settings. */
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

function run(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env: childEnv, encoding: "utf8", timeout: SLOW, maxBuffer: 16 * 1024 * 1024 });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}, ${result.signal ?? "no signal"}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/**
 * What README fragments take from the text around them: a fragment that uses one of these
 * names without declaring it gets this line in front (only then; the block stays verbatim).
 */
const CONTEXT: readonly { name: string; line: string }[] = [
  { name: "registry", line: `import { registry } from "./actors.ts";` },
  { name: "createClient", line: `import { createClient } from "tandem/client";` },
  { name: "createServer", line: `import { createServer } from "tandem/server";` },
  { name: "fileDriver", line: `import { fileDriver } from "tandem/server";` },
  { name: "memoryDriver", line: `import { memoryDriver } from "tandem/server";` },
  { name: "token", line: `declare const token: string;` },
  { name: "cursor", line: `declare const cursor: { x: number; y: number };` },
];

function withContext(block: CodeBlock): string {
  const declared = (name: string) => new RegExp(`(import\\s*(type\\s*)?\\{[^}]*\\b${name}\\b[^}]*\\}|\\b(const|let|function|class)\\s+${name}\\b)`).test(block.code);
  const used = (name: string) => new RegExp(`\\b${name}\\b`).test(block.code);
  const lines = CONTEXT.filter(({ name }) => used(name) && !declared(name)).map(({ line }) => line);
  return `${lines.join("\n")}${lines.length > 0 ? "\n" : ""}// README.md line ${block.line}, verbatim below.\n${block.code}`;
}

/** A client of the README's chat room, run by plain node: against `argv[2]`, or a server it starts itself. */
const CLIENT_CHECK = `import { createClient } from "tandem/client";
import { createServer, memoryDriver } from "tandem/server";
import { registry } from "./actors.ts";

const given = process.argv[2];
const server = given === undefined ? createServer(registry, { driver: memoryDriver(), logger: "fatal" }) : null;
const url = given ?? (await server!.listen({ port: 0, host: "127.0.0.1" }));
const client = createClient<typeof registry>(url);
const room = client.chatRoom.getOrCreate(["org-1", "lobby"], { params: { token: "ada" } });
const overHttp = await room.sendMessage("over http");
const conn = room.connect();
await conn.whenSynced();
const overSocket = await conn.sendMessage("over the socket");
const texts: string[] = (conn.state?.messages ?? []).map((message) => message.text);
const refused = await client.chatRoom
  .getOrCreate(["org-1", "lobby"])
  .getMessages()
  .then(() => "accepted", (error: { code?: string }) => error.code ?? "no code");
conn.dispose();
client.dispose();
await server?.close();
console.log(JSON.stringify({ overHttp: overHttp.userId, overSocket: overSocket.text, texts, refused }));
`;

/**
 * An actor written inline in setup({ use }) (issue 15: its context `c` was implicitly any on
 * TypeScript 5.9), type-checked by the consumer's compilers; never run.
 */
const INLINE_ACTORS = `import { actor, setup } from "tandem";
import { createClient } from "tandem/client";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): void {}

export const inlineRegistry = setup({
  use: {
    counter: actor({
      state: { n: 0 },
      onAuth: async ({ params }) => ({ userId: params.token ?? "anon" }),
      actions: {
        inc: (c, by: number) => {
          assertType<Equal<typeof c.state, { n: number }>>();
          assertType<Equal<typeof c.conn.auth, { userId: string }>>();
          return (c.state.n += by);
        },
      },
    }),
  },
});

export function typed(url: string): Promise<number> {
  const client = createClient<typeof inlineRegistry>(url);
  const result = client.counter.getOrCreate("k").inc(1);
  assertType<Equal<typeof result, Promise<number>>>();
  return result;
}
`;

/** What a browser app imports (bundled by esbuild for the browser in a test; never run). */
const BROWSER_ENTRY = `import { createClient, indexedDbStorage } from "tandem/client";
import { actor, setup } from "tandem";
export const parts = [createClient, indexedDbStorage, actor, setup];
`;

/** Bundles BROWSER_ENTRY with the esbuild the package brings (through tsx) for platform "browser". */
const BUNDLE = `import { build } from "esbuild";
const result = await build({ entryPoints: ["browser-entry.js"], bundle: true, platform: "browser", format: "esm", write: false, logLevel: "silent" });
console.log(JSON.stringify({ bytes: result.outputFiles[0].contents.byteLength, errors: result.errors.length }));
`;

/**
 * A Y.Text made with the app's own `yjs` in an actor's state, run by plain node: with two Yjs
 * instances (the package's and the app's) Yjs would not recognise it as one of its types.
 */
const YTEXT_CHECK = `import * as Y from "yjs";
import { actor, setup } from "tandem";
import { createServer, memoryDriver } from "tandem/server";

const notes = actor({
  state: { body: new Y.Text("hello") },
  actions: {
    append: (c, text: string) => {
      c.state.body.insert(c.state.body.length, text);
      return c.state.body.toString();
    },
  },
});
const server = createServer(setup({ use: { notes } }), { driver: memoryDriver(), logger: "fatal" });
const text = await server.client.notes.getOrCreate("k").append(" world");
await server.close();
console.log(JSON.stringify({ text }));
`;

/** tandem/react from the package: hooks typed from the registry (type-checked, never run). */
const REACT_CHECK = `import { createElement, type ReactElement } from "react";
import { actor, setup } from "tandem";
import { createClient } from "tandem/client";
import { TandemProvider, useActor, useActorState, useClient, useStatus } from "tandem/react";

export const registry = setup({
  use: {
    counter: actor({ state: { n: 0, label: "" }, actions: { inc: (c, by: number) => (c.state.n += by) } }),
  },
});

function Counter(): ReactElement {
  const client = useClient<typeof registry>();
  const conn = useActor(client.counter.getOrCreate("k"));
  const n: number | undefined = useActorState(conn, (state) => state.n);
  const status = useStatus(conn);
  return createElement("button", { onClick: () => void conn?.inc(1) }, \`\${n ?? "…"} (\${status})\`);
}

export function App(): ReactElement {
  return createElement(TandemProvider, { client: createClient<typeof registry>("http://127.0.0.1:8080") }, createElement(Counter));
}
`;

interface Project {
  readonly dir: string;
  readonly files: readonly string[];
  readonly packed: readonly string[];
}

let temp = "";
let project: Project;

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "tandem-package-"));
  // The library is built by vitest's global setup (scripts/build.mjs); packing does not
  // rebuild it (--ignore-scripts), so tests running the CLI meanwhile never see dist/ half-written.
  const pack = JSON.parse(ok(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", temp], ROOT), "npm pack")) as {
    filename: string;
    integrity: string;
    files: { path: string }[];
  }[];
  const tarball = pack[0]!;
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
  const integrity = `sha512-${createHash("sha512").update(readFileSync(join(temp, tarball.filename))).digest("base64")}`;
  const dir = join(temp, "app");
  mkdirSync(dir);
  const { manifest: appManifest, lock } = offlineLockfile(ROOT, "readme-app", { yjs: "dependencies", react: "dependencies", "@types/node": "devDependencies", "@types/react": "devDependencies" }, [
    { name: manifest.name, spec: `file:../${tarball.filename}`, manifest: manifest as never, integrity },
  ]);
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(appManifest, null, 2)}\n`);
  writeFileSync(join(dir, "package-lock.json"), `${JSON.stringify(lock, null, 2)}\n`);
  ok(run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], dir), "npm ci --offline");

  const files: string[] = [];
  const named = new Set<string>();
  let fragment = 0;
  for (const block of readmeBlocks(README, "Quick start")) {
    if (block.file !== null && !named.has(block.file)) {
      named.add(block.file);
      writeFileSync(join(dir, block.file), block.code);
      files.push(block.file);
    } else {
      const file = `fragment-${++fragment}.ts`;
      writeFileSync(join(dir, file), withContext(block));
      files.push(file);
    }
  }
  writeFileSync(join(dir, "client-check.ts"), CLIENT_CHECK);
  writeFileSync(join(dir, "inline-actors.ts"), INLINE_ACTORS);
  writeFileSync(join(dir, "ytext-check.ts"), YTEXT_CHECK);
  files.push("ytext-check.ts");
  writeFileSync(join(dir, "browser-entry.js"), BROWSER_ENTRY);
  writeFileSync(join(dir, "bundle.mjs"), BUNDLE);
  files.push("client-check.ts", "inline-actors.ts");
  writeFileSync(join(dir, "react-check.ts"), REACT_CHECK);
  files.push("react-check.ts");
  writeFileSync(
    join(dir, "tsconfig.json"),
    `${JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2023", "DOM"],
          types: ["node"],
          skipLibCheck: false,
          rewriteRelativeImportExtensions: true,
          outDir: "out",
        },
        include: ["*.ts"],
      },
      null,
      2,
    )}\n`,
  );
  // A Node-only app: no DOM lib. Yjs's own declarations need it (Y.XmlFragment#toDOM), the package's must not.
  writeFileSync(join(dir, "tsconfig.node.json"), `${JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { lib: ["ES2023"], noEmit: true } }, null, 2)}\n`);
  // A bundler app (Vite, esbuild…): moduleResolution "bundler" reads the same exports.
  writeFileSync(join(dir, "tsconfig.bundler.json"), `${JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { module: "ESNext", moduleResolution: "Bundler", allowImportingTsExtensions: true, noEmit: true } }, null, 2)}\n`);
  project = { dir, files, packed: tarball.files.map((file) => file.path) };
}, SLOW);

afterAll(async () => {
  if (temp !== "") await rm(temp, { recursive: true, force: true });
});

// In order: the type-check of TypeScript 7 compiles out/, which the tests after it run.
describe("the packed package", () => {
  it("ships compiled JavaScript, declarations and source maps, not the sources or the tests", () => {
    const packed = project.packed;
    for (const entry of ["shared", "client", "server"]) {
      expect(packed).toContain(`dist/${entry}/index.js`);
      expect(packed).toContain(`dist/${entry}/index.d.ts`);
      expect(packed).toContain(`dist/${entry}/index.js.map`);
    }
    expect(packed).toContain("bin/tandem.mjs");
    expect(packed.filter((path) => path.endsWith(".ts") && !path.endsWith(".d.ts"))).toEqual([]);
    expect(packed.filter((path) => /\.test\.|\.child\.|test-d/.test(path))).toEqual([]);
    expect(packed.filter((path) => path.startsWith("dist/demo"))).toEqual([]);
    // Declarations import each other as .js, like the JavaScript they describe.
    const declarations = packed.filter((path) => path.endsWith(".d.ts"));
    const tsImports = declarations.filter((path) => /(from|import)\s*\(?\s*["']\.{1,2}\/[^"']*\.ts["']/.test(readFileSync(join(project.dir, "node_modules", "tandem", path), "utf8")));
    expect(tsImports).toEqual([]);
  });

  it("type-checks the README quick start and an inline actor with TypeScript 7, strict (NodeNext and bundler resolution), and compiles them for plain node", () => {
    expect(project.files).toContain("actors.ts");
    expect(project.files).toContain("server.ts");
    ok(run(process.execPath, [TSC_7, "-p", project.dir], project.dir), "tsc (TypeScript 7)");
    ok(run(process.execPath, [TSC_7, "-p", join(project.dir, "tsconfig.bundler.json")], project.dir), "tsc (TypeScript 7, bundler resolution)");
    expect(existsSync(join(project.dir, "out", "server.js"))).toBe(true);
  }, SLOW);

  it("needs no DOM lib: without it, only Yjs's own declarations (toDOM) miss DOM types", () => {
    const result = run(process.execPath, [TSC_7, "-p", join(project.dir, "tsconfig.node.json")], project.dir);
    const erring = new Set([...`${result.stdout}${result.stderr}`.matchAll(/^(\S+?)\(\d+,\d+\): error/gm)].map((match) => match[1]!));
    expect([...erring].filter((file) => !file.startsWith("node_modules/yjs/"))).toEqual([]);
  }, SLOW);

  it("type-checks the README quick start and an inline actor with TypeScript 5.x, strict", () => {
    if (!existsSync(TSC_5)) throw new Error("TypeScript 5.x is missing: add the devDependency `typescript5: npm:typescript@5` (node_modules/typescript5)");
    const version = ok(run(process.execPath, [TSC_5, "--version"], project.dir), "tsc --version");
    expect(version).toMatch(/Version 5\./);
    ok(run(process.execPath, [TSC_5, "-p", project.dir, "--noEmit"], project.dir), "tsc (TypeScript 5.x)");
  }, SLOW);

  it("bundles tandem and tandem/client for the browser: no Node module is imported statically", () => {
    const out = ok(run(process.execPath, [join(project.dir, "bundle.mjs")], project.dir), "esbuild --platform=browser");
    const bundled = JSON.parse(out.trim()) as { bytes: number; errors: number };
    expect(bundled.errors).toBe(0);
    expect(bundled.bytes).toBeGreaterThan(0);
  }, SLOW);

  it("shares the app's Yjs: yjs is a peer dependency, and a Y.Text of the app's works in an actor's state", () => {
    expect(existsSync(join(project.dir, "node_modules", "yjs"))).toBe(true);
    expect(existsSync(join(project.dir, "node_modules", "tandem", "node_modules", "yjs"))).toBe(false);
    const out = ok(run(process.execPath, [join(project.dir, "out", "ytext-check.js")], project.dir), "node out/ytext-check.js");
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({ text: "hello world" });
  }, SLOW);

  it("runs the README's server.ts with plain node", () => {
    ok(run(process.execPath, [join(project.dir, "out", "server.js")], project.dir), "node out/server.js");
  }, SLOW);

  it("runs a server and a network client from the package with plain node", () => {
    const out = ok(run(process.execPath, [join(project.dir, "out", "client-check.js")], project.dir), "node out/client-check.js");
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({ overHttp: "ada", overSocket: "over the socket", texts: ["over http", "over the socket"], refused: "unauthorized" });
  }, SLOW);

  it.each([
    ["actors.ts", "the README's TypeScript actors (tsx loads them)"],
    ["out/actors.js", "the README's actors compiled (no tsx)"],
  ])("`tandem serve %s` from the installed package serves %s to a plain-node client", async (module) => {
    const bin = join(project.dir, "node_modules", ".bin", "tandem");
    const child = spawn(bin, ["serve", module, "--memory", "--port", "0", "--log", "fatal"], { cwd: project.dir, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await listening(child);
      const out = ok(run(process.execPath, [join(project.dir, "out", "client-check.js"), url], project.dir), "node out/client-check.js <url>");
      expect(JSON.parse(out.trim().split("\n").pop()!)).toMatchObject({ overHttp: "ada", texts: ["over http", "over the socket"], refused: "unauthorized" });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, SLOW);
});

/** The URL `tandem serve` prints once it listens; rejects if it exits first or takes over a minute. */
function listening(child: ChildProcess): Promise<string> {
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += String(chunk)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tandem serve did not listen within 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = /^tandem: serving .* on (http:\/\/\S+) /.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`tandem serve exited (${code}) before listening: ${stderr}`));
    });
  });
}

/**
 * The demo server: the board's actors over the file driver, plus the built app (dist/demo)
 * as static files. `npm start` runs it (demo/server.ts); the browser tests start it in
 * their own process on port 0 with a temporary data directory.
 */
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { createServer, fileDriver, type TandemServer } from "tandem/server";
import { registry, type Registry } from "./actors.ts";
import { DEMO_DIST } from "./build.ts";

export interface DemoServerOptions {
  /** The file driver's directory. */
  dataDir: string;
  /** The built app. Default: dist/demo. */
  distDir?: string;
  /** Fastify's log level, or false. Default "warn". */
  logger?: "fatal" | "error" | "warn" | "info" | "debug" | false;
  /** Serve the server inspector and /metrics with this token (off without it). */
  inspectorToken?: string;
}

export interface DemoServer {
  readonly server: TandemServer<Registry>;
  /** WebSocket upgrades seen: how many were opened, how many are open now (in all, or from one page origin). */
  readonly sockets: { readonly opened: number; readonly open: number; openFrom(origin: string): number };
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
};

export function createDemoServer(options: DemoServerOptions): DemoServer {
  const dist = options.distDir ?? DEMO_DIST;
  const server = createServer(registry, {
    driver: fileDriver({ dir: options.dataDir }),
    logger: options.logger ?? "warn",
    ...(options.inspectorToken === undefined ? {} : { inspector: { token: options.inspectorToken } }),
  });

  let opened = 0;
  const open = new Map<string, number>();
  const add = (origin: string, n: number) => {
    const count = (open.get(origin) ?? 0) + n;
    if (count === 0) open.delete(origin);
    else open.set(origin, count);
  };
  server.app.server.on("upgrade", (request, socket) => {
    const origin = request.headers.origin ?? "";
    opened++;
    add(origin, 1);
    socket.once("close", () => add(origin, -1));
  });

  // Everything that is not the API: a file of the build, or the app's page for "/".
  server.app.get("/*", async (request, reply) => {
    const pathname = decodeURIComponent(new URL(request.url, "http://x").pathname);
    const relative = pathname === "/" ? "index.html" : pathname.slice(1);
    const file = normalize(join(dist, relative));
    if (!file.startsWith(dist + sep)) return reply.code(404).send({ error: "not found" });
    let body: Buffer;
    try {
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      body = await readFile(file);
    } catch {
      if (pathname === "/") return reply.code(503).type("text/plain; charset=utf-8").send("The demo app is not built: run `npm run build`.");
      return reply.code(404).send({ error: "not found" });
    }
    // Hashed assets never change; the page and the service worker are checked every time.
    const immutable = relative.startsWith("assets/") && !relative.endsWith(".map");
    reply.header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
    return reply.type(TYPES[extname(file)] ?? "application/octet-stream").send(body);
  });

  return {
    server,
    sockets: {
      get opened() {
        return opened;
      },
      get open() {
        let total = 0;
        for (const count of open.values()) total += count;
        return total;
      },
      openFrom: (origin) => open.get(origin) ?? 0,
    },
  };
}

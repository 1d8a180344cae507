/**
 * `tandem serve ./actors.ts --port 8080 --dir .data`: runs a server from any module that
 * exports `registry` (TypeScript or JavaScript), with the file driver in `--dir` (or
 * `--memory` for nothing on disk), or as one node of a cluster sharing `--redis <url>`.
 * Stops gracefully on SIGINT/SIGTERM.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { TandemError } from "../shared/errors.ts";
import { createServer } from "./create-server.ts";
import { fileDriver } from "./drivers/file.ts";
import { memoryDriver } from "./drivers/memory.ts";
import { redisDriver } from "./drivers/redis.ts";
import { type CorsOption, originPolicy } from "./http/cors.ts";
import { importRegistry } from "./registry-module.ts";
import { inspectorTokenFromEnv } from "./inspector/cli-token.ts";

const USAGE = `Usage: tandem serve <module> [--port 8080] [--host 127.0.0.1] [--dir .data | --memory | --redis <url>] [--log warn]
                     [--allowed-origin https://app.example …] [--cors]

  <module>     a .ts or .js file that exports \`registry\` (from setup())
  --port       port to listen on (default 8080, or $PORT)
  --host       address to bind (default 127.0.0.1)
  --dir        directory of the file driver (default .data)
  --memory     keep actors in memory only
  --redis      run as one node of a cluster sharing this Redis (redis://host:port[/db]); start
               as many nodes as you like behind any load balancer
  --lease-ms   with --redis: how long a dead node keeps its actors (default 5000)
  --advertise  with --redis: the URL other nodes reach this one at (default: the address it
               listens on; needed with --host 0.0.0.0)
  --log        log level: fatal, error, warn, info, debug (default info)
  --allowed-origin <origin>
               a browser app served from <origin> may use this server: WebSocket, and HTTP
               actions with CORS headers (repeatable; default: the server's own origin only)
  --cors       CORS for every origin (or, with --allowed-origin, for those only)
  --inspector  serve the inspector (/inspector) and /metrics, behind a bearer token: from
               $TANDEM_INSPECTOR_TOKEN, else a random one printed once at start`;

/** createServer's \`cors\` from --cors and --allowed-origin (one set of origins for WebSockets, HTTP and CORS). */
function corsOf(cors: boolean | undefined, allowed: string[] | undefined): CorsOption | undefined {
  if (allowed !== undefined && allowed.length > 0) return { origins: allowed };
  return cors ? true : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== "serve") {
    console.error(USAGE);
    return command === undefined || command === "--help" || command === "-h" ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        dir: { type: "string" },
        memory: { type: "boolean" },
        redis: { type: "string" },
        "lease-ms": { type: "string" },
        advertise: { type: "string" },
        inspector: { type: "boolean" },
        log: { type: "string" },
        cors: { type: "boolean" },
        "allowed-origin": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length !== 1) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  // Checked before the actors module is loaded: a bad flag runs none of the user's code.
  const cors = corsOf(values.cors, values["allowed-origin"]);
  try {
    originPolicy(undefined, cors);
  } catch (error) {
    if (!(error instanceof TandemError)) throw error;
    console.error(`tandem: ${error.message.replace("cors.origins", "--allowed-origin")}`);
    return 2;
  }
  const modulePath = resolve(positionals[0]!);
  const registry = await importRegistry(modulePath);
  if (registry === undefined) {
    console.error(`${positionals[0]} does not export \`registry\` (the value returned by setup()).`);
    return 2;
  }
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number, got ${values.port}`);
    return 2;
  }
  if ([values.dir !== undefined, values.memory === true, values.redis !== undefined].filter(Boolean).length > 1) {
    console.error(`Choose one of --dir, --memory and --redis.\n\n${USAGE}`);
    return 2;
  }
  if (values.redis === undefined && (values["lease-ms"] !== undefined || values.advertise !== undefined)) {
    console.error(`--lease-ms and --advertise go with --redis.\n\n${USAGE}`);
    return 2;
  }
  const leaseMs = values["lease-ms"] === undefined ? undefined : Number(values["lease-ms"]);
  if (leaseMs !== undefined && (!Number.isInteger(leaseMs) || leaseMs < 100)) {
    console.error(`--lease-ms must be a whole number of milliseconds, at least 100; got ${values["lease-ms"]}`);
    return 2;
  }
  const dir = values.dir ?? ".data";
  const driver = values.redis !== undefined ? redisDriver({ url: values.redis, leaseMs }) : values.memory ? memoryDriver() : fileDriver({ dir });
  const where = values.redis !== undefined ? `cluster node ${driver.ownership!.nodeId} on ${values.redis}` : values.memory ? "memory" : `file driver in ${dir}`;
  const level = (values.log ?? "info") as "info";
  const inspector = values.inspector ? inspectorTokenFromEnv(process.env.TANDEM_INSPECTOR_TOKEN) : null;
  let server;
  try {
    server = createServer(registry, { driver, logger: level, cors, cluster: values.advertise === undefined ? undefined : { advertiseUrl: values.advertise }, inspector: inspector ?? undefined });
  } catch (error) {
    console.error(`tandem: ${(error as Error).message}`);
    await driver.close().catch(() => undefined);
    return 2;
  }
  let url: string;
  try {
    url = await server.listen({ port, host: values.host ?? "127.0.0.1" });
  } catch (error) {
    console.error(`tandem: ${(error as Error).message}`);
    await server.close().catch(() => undefined);
    return 1;
  }
  console.log(`tandem: serving ${Object.keys(registry.actors).join(", ")} on ${url} (${where})`);
  if (inspector !== null) console.log(`tandem: inspector at ${url}/inspector${inspector.generated ? `#token=${inspector.token} (a random token; set TANDEM_INSPECTOR_TOKEN to choose one)` : " (token from TANDEM_INSPECTOR_TOKEN)"}`);
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  return 0;
}

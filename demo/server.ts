/**
 * `npm start`: the demo on http://127.0.0.1:8080 (PORT and HOST override them; HOST=0.0.0.0
 * in a container), with the file driver in ./.data. TANDEM_INSPECTOR_TOKEN=<token> also
 * serves the server inspector at /inspector (and /metrics). Builds the app first when dist/demo is missing or older than its sources.
 */
import { ensureDemoBuilt } from "./build.ts";
import { createDemoServer } from "./app-server.ts";

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? "127.0.0.1";
await ensureDemoBuilt({ log: (line) => console.log(line) });

const inspectorToken = process.env.TANDEM_INSPECTOR_TOKEN;
const { server } = createDemoServer({ dataDir: ".data", ...(inspectorToken ? { inspectorToken } : {}) });
let url: string;
try {
  url = await server.listen({ port, host });
} catch (error) {
  // An unusable or locked data directory (or a port in use): say so, and exit non-zero.
  console.error(`Tandem demo cannot start: ${(error as Error).message}`);
  await server.close().catch(() => undefined);
  process.exit(1);
}
console.log(`Tandem demo on ${url}`);
if (inspectorToken) console.log(`Inspector on ${url}/inspector (the token is $TANDEM_INSPECTOR_TOKEN)`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    await server.close();
    process.exit(0);
  });
}

/**
 * The Hocuspocus server (@hocuspocus/server, pinned in bench/package.json) on 127.0.0.1,
 * with no extensions: documents live in memory, as in Hocuspocus's own benchmarks.
 */
import type { Figures } from "../lib/harness.ts";
import { anchor } from "../lib/modules.ts";
import type { StartedServer } from "../lib/server-process.ts";

export async function start(_options: Figures): Promise<StartedServer> {
  const { Server } = await anchor("@hocuspocus/server");
  const server = new Server({ port: 0, address: "127.0.0.1", quiet: true, stopOnSignals: false });
  await server.listen();
  return { port: server.address.port as number, close: () => server.destroy() };
}

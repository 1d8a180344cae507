/**
 * The y-websocket reference server (@y/websocket-server's `setupWSConnection`, the code its
 * own bin runs) on 127.0.0.1, over ws. No persistence, unless `options.persistence` names a
 * directory: then its own y-leveldb persistence (YPERSISTENCE), as its bin would.
 */
import { createServer } from "node:http";
import type { Figures } from "../lib/harness.ts";
import { anchor } from "../lib/modules.ts";
import type { StartedServer } from "../lib/server-process.ts";

export async function start(options: Figures): Promise<StartedServer> {
  // Read by the module when it loads.
  if (typeof options.persistence === "string") process.env.YPERSISTENCE = options.persistence;
  else delete process.env.YPERSISTENCE;
  const { setupWSConnection } = await anchor("@y/websocket-server/utils");
  const { WebSocketServer } = await anchor("ws");
  const wss = new WebSocketServer({ noServer: true });
  wss.on("connection", setupWSConnection);
  const http = createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "text/plain" });
    response.end("okay");
  });
  http.on("upgrade", (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws: unknown) => wss.emit("connection", ws, request));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const address = http.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** A bare WebSocket echo server (ws): the loopback round trip every networked action pays at least. */
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import type { Figures } from "../lib/harness.ts";
import type { StartedServer } from "../lib/server-process.ts";

export async function start(_options: Figures): Promise<StartedServer> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on("connection", (socket) => socket.on("message", (data, binary) => socket.send(data, { binary })));
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

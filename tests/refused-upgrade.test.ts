/**
 * A WebSocket upgrade answered with plain HTTP (no route, a refused origin, a bad provider
 * URL) must not leave its socket open: Node stops tracking a socket handed to `upgrade`, and
 * `server.close()` used to wait minutes for it — anyone could stall a deploy with one request.
 */
import * as http from "node:http";
import { expect, test } from "vitest";
import { actor, setup } from "tandem";
import { createServer } from "tandem/server";
import { within } from "./seed-helpers.ts";

const registry = setup({ use: { room: actor({ state: { n: 0 }, actions: { get: (c) => c.state.n } }) } });

/** Sends an upgrade request and keeps the socket open from our side; resolves with the status. */
function refusedUpgrade(base: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path,
      agent: false,
      headers: { ...headers, Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
    });
    request.on("upgrade", (_response, socket) => {
      socket.destroy();
      resolve(101);
    });
    request.on("response", (response) => {
      response.resume(); // we never close it ourselves
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end();
  });
}

test("close() is not held up by upgrade requests answered with 404, 403 or 400", async () => {
  const server = createServer(registry, { logger: false });
  const url = await server.listen();
  expect(await refusedUpgrade(url, "/nosuch")).toBe(404);
  expect(await refusedUpgrade(url, "/connect", { Origin: "http://evil.example" })).toBe(403);
  expect(await refusedUpgrade(url, "/yjs/room/%E0%A4%A")).toBe(400);
  await within(server.close(), 5_000, "server.close() with refused upgrades around");
});

/**
 * A WebSocket upgrade answered with plain HTTP (no route, a refused origin, a bad provider
 * URL) must not leave its socket open: Node stops tracking a socket handed to `upgrade`, and
 * `server.close()` used to wait minutes for it — anyone could stall a deploy with one request.
 */
import { expect, test } from "vitest";
import { actor, setup } from "tandem";
import { createServer } from "tandem/server";
import { within } from "./seed-helpers.ts";
import { upgradeStatus } from "./support/upgrade-request.ts";

const registry = setup({ use: { room: actor({ state: { n: 0 }, actions: { get: (c) => c.state.n } }) } });

test("close() is not held up by upgrade requests answered with 404, 403 or 400", async () => {
  const server = createServer(registry, { logger: false });
  const url = await server.listen();
  expect(await upgradeStatus(url, "/nosuch")).toBe(404);
  expect(await upgradeStatus(url, "/connect", { Origin: "http://evil.example" })).toBe(403);
  expect(await upgradeStatus(url, "/yjs/room/%E0%A4%A")).toBe(400);
  await within(server.close(), 5_000, "server.close() with refused upgrades around");
});

/**
 * A WebSocket upgrade request that is answered with an ordinary HTTP response (no route:
 * 404, a refused origin: 403, a bad URL: 400) leaves its socket open: Node's HTTP server no
 * longer tracks a socket once it was handed to the `upgrade` event, so nothing closes it and
 * `server.close()` waits for it for minutes — one such request from anyone stalls a deploy.
 * Such a socket is ended once its answer is written — by the hook below for routed requests,
 * and by `answerBadUrl` for a URL fastify cannot even route (bad percent-encoding), which
 * runs no hooks.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import { InvalidArguments } from "../../shared/errors.ts";

export function endRefusedUpgrades(app: FastifyInstance): void {
  app.addHook("onResponse", async (request, reply) => {
    if (request.headers.upgrade === undefined || reply.statusCode === 101) return;
    const socket = request.raw.socket;
    if (!socket.destroyed) socket.end(() => socket.destroy());
  });
}

/** fastify's `frameworkErrors`: a URL it cannot route gets 400 invalid_arguments; an upgrade's socket is ended after it. */
export function answerBadUrl(_error: Error, request: { readonly raw: IncomingMessage }, reply: { readonly raw: ServerResponse }): void {
  const body = JSON.stringify({ error: new InvalidArguments("The URL cannot be read (bad percent-encoding)").toWire() });
  const response = reply.raw;
  if (!response.headersSent) response.writeHead(400, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  response.end(body, () => {
    if (request.raw.headers.upgrade !== undefined) request.raw.socket.destroy();
  });
}

/**
 * The y-websocket endpoint: `GET /yjs/<actorName>/<key>` upgraded to a WebSocket that speaks
 * y-websocket's protocol (server/network/yjs/yjs-session.ts), so a stock `WebsocketProvider`
 * syncs an actor's document (its state under `doc.getMap("state")`) and its presence. The
 * same Origin check as `/connect` runs before the upgrade, and so does reading the URL: a bad
 * one is refused with 400 and never becomes a socket. Params come from the query string —
 * the weaker channel (URLs end up in logs and browser history); `/connect` carries them in
 * a frame instead.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { ErrorCodes, TandemError, toWireError } from "../../shared/errors.ts";
import type { Limits } from "../network/limits.ts";
import type { YjsTarget } from "../network/yjs/yjs-session.ts";
import type { ActorRuntime } from "../runtime/actor-runtime.ts";
import { type AllowedOrigins, originAllowed } from "./origin.ts";
import { statusFor } from "./status.ts";
import { yjsTarget } from "./yjs-target.ts";

export interface YjsRouteOptions {
  readonly runtime: ActorRuntime;
  readonly limits: Limits;
  readonly allowedOrigins?: AllowedOrigins;
  /** Admits the socket (per-address caps) and starts its session. */
  start(socket: WebSocket, request: FastifyRequest, target: YjsTarget): void;
}

export function registerYjsRoute(app: FastifyInstance, options: YjsRouteOptions): void {
  const targets = new WeakMap<FastifyRequest, YjsTarget>();
  app.get(
    "/yjs/*",
    {
      websocket: true,
      preValidation: async (request, reply) => {
        if (!originAllowed(request.headers.origin, request.headers.host, options.allowedOrigins)) {
          await reply.code(403).send({ error: { code: ErrorCodes.forbidden, message: "This origin may not connect", group: "auth" } });
          return;
        }
        try {
          targets.set(request, yjsTarget(request.url, request.routeOptions.url ?? "/yjs/*"));
        } catch (error) {
          if (!(error instanceof TandemError)) options.runtime.log.error({ err: error }, "reading a y-websocket URL failed");
          const wire = toWireError(error);
          await reply.code(statusFor(wire.code, wire.group)).send({ error: wire });
        }
      },
    },
    (socket, request) => {
      const target = targets.get(request);
      if (target === undefined) return socket.terminate(); // preValidation refused it (never reached)
      targets.delete(request);
      options.start(socket, request, target);
    },
  );
}

/**
 * The Tandem HTTP surface as one fastify plugin: the WebSocket endpoint (`GET /connect`),
 * stateless actions, and `/openapi.json`. createServer registers it on its own app; an
 * existing fastify app can mount it with a prefix: `app.register(server.plugin, { prefix })`.
 */
import websocket from "@fastify/websocket";
import type { FastifyError, FastifyInstance, FastifyPluginAsync } from "fastify";
import { ErrorCodes, InvalidArguments, MessageTooLarge, RateLimited } from "../../shared/errors.ts";
import { CloseCode, Kind, encodeDown, withRetryAfter } from "../../shared/protocol/index.ts";
import { closeFirmly } from "../network/close-firmly.ts";
import { LeaderTerms } from "../network/leader-terms.ts";
import type { Limits } from "../network/limits.ts";
import { SendBudget } from "../network/send-budget.ts";
import { SocketSession } from "../network/socket-session.ts";
import { ChannelsPerAddress } from "../network/channels-per-address.ts";
import { SocketsPerAddress } from "../network/sockets-per-address.ts";
import type { ActorRuntime } from "../runtime/actor-runtime.ts";
import { registerActionRoutes, sendError } from "./actions-route.ts";
import { type OriginPolicy, registerCors } from "./cors.ts";
import { openApiDocument } from "./openapi.ts";
import { type AllowedOrigins, originAllowed } from "./origin.ts";
import { toAuthRequest } from "./request.ts";

export interface NetworkOptions {
  runtime: ActorRuntime;
  limits: Limits;
  allowedOrigins?: AllowedOrigins;
  /** CORS headers for the allowed origins (createServer's `cors`, through `originPolicy`). Default: none. */
  cors?: OriginPolicy["cors"];
  /** Sessions open on this server, for close() and tests. */
  sessions: Set<SocketSession>;
  /** Bytes queued to this server's sockets (default: a budget of `limits.maxBufferedBytesTotal` for this plugin). */
  sendBudget?: SendBudget;
}

/** How long a client refused for too many sockets from its address should wait. */
const TOO_MANY_SOCKETS_RETRY_MS = 5_000;

export function tandemPlugin(options: NetworkOptions): FastifyPluginAsync<{ prefix?: string }> {
  const { runtime, limits, sessions } = options;
  const terms = new LeaderTerms(); // the browsers' leader tabs, fenced by epoch
  const budget = options.sendBudget ?? new SendBudget(limits.maxBufferedBytesTotal);
  const perAddress = new SocketsPerAddress(limits.maxSocketsPerAddress);
  const channelsPerAddress = new ChannelsPerAddress(limits.maxChannelsPerAddress);
  return async (app: FastifyInstance, pluginOptions) => {
    const prefix = pluginOptions.prefix ?? "";
    if (!app.hasDecorator("websocketServer")) {
      // The hard limit sits above ours so that an oversized frame gets a clear error frame.
      await app.register(websocket, {
        options: { maxPayload: limits.maxFrameBytes * 4 },
        // A client breaking the transport (oversized frame, bad close) is the client's problem.
        errorHandler: (error, socket) => {
          runtime.log.debug({ err: error }, "websocket error");
          socket.terminate();
        },
      });
    }

    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return sendError(runtime, reply, new MessageTooLarge(`Bodies are limited to ${limits.maxFrameBytes} bytes`), {});
      if (error.statusCode === 429) return sendError(runtime, reply, new RateLimited(), {});
      if (error.statusCode !== undefined && error.statusCode < 500) {
        return sendError(runtime, reply, new InvalidArguments(error.message), { url: request.url });
      }
      return sendError(runtime, reply, error, { url: request.url });
    });

    app.get(
      "/connect",
      {
        websocket: true,
        preValidation: async (request, reply) => {
          if (!originAllowed(request.headers.origin, request.headers.host, options.allowedOrigins)) {
            await reply.code(403).send({ error: { code: ErrorCodes.forbidden, message: "This origin may not connect", group: "auth" } });
          }
        },
      },
      (socket, request) => {
        const address = request.ip;
        if (!perAddress.admit(address)) {
          runtime.log.warn({ address, limit: limits.maxSocketsPerAddress }, "refusing a socket: too many from its address");
          const error = new RateLimited(`At most ${limits.maxSocketsPerAddress} sockets from one address`).toWire();
          socket.send(encodeDown({ kind: Kind.error, channel: 0, error }));
          closeFirmly(socket, CloseCode.rateLimited, withRetryAfter("too many sockets from this address", TOO_MANY_SOCKETS_RETRY_MS));
          return;
        }
        const session = new SocketSession(socket, toAuthRequest(request), runtime, limits, runtime.log, terms, budget, channelsPerAddress.of(address));
        sessions.add(session);
        socket.on("close", () => {
          sessions.delete(session);
          perAddress.release(address);
        });
      },
    );

    registerCors(app, { allowed: options.allowedOrigins, cors: options.cors ?? null });
    registerActionRoutes(app, runtime, options.allowedOrigins);

    app.get("/openapi.json", async () => openApiDocument(runtime.registry, { prefix }));
  };
}

/**
 * The Tandem HTTP surface as one fastify plugin: the WebSocket endpoint (`GET /connect`),
 * the y-websocket endpoint (`GET /yjs/<actorName>/<key>`, yjs-route.ts), stateless actions,
 * and `/openapi.json`. createServer registers it on its own app; an
 * existing fastify app can mount it with a prefix: `app.register(server.plugin, { prefix })`.
 */
import websocket from "@fastify/websocket";
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import type { ClusterNode } from "../cluster/cluster-node.ts";
import { forwardedAddress, isPeerRequest } from "../cluster/peer-request.ts";
import { registerPeerCallRoute } from "../cluster/peer-call.ts";
import { ErrorCodes, InvalidArguments, MessageTooLarge, RateLimited } from "../../shared/errors.ts";
import { CloseCode, Kind, encodeDown, withRetryAfter } from "../../shared/protocol/index.ts";
import { closeFirmly } from "../network/close-firmly.ts";
import { LeaderTerms } from "../network/leader-terms.ts";
import type { Limits } from "../network/limits.ts";
import { SendBudget } from "../network/send-budget.ts";
import { SocketSession } from "../network/socket-session.ts";
import { type ChannelQuota, ChannelsPerAddress } from "../network/channels-per-address.ts";
import { YjsSocketSession } from "../network/yjs/yjs-session.ts";
import { SocketsPerAddress } from "../network/sockets-per-address.ts";
import type { ActorRuntime } from "../runtime/actor-runtime.ts";
import { registerActionRoutes, sendError } from "./actions-route.ts";
import { type OriginPolicy, registerCors } from "./cors.ts";
import { openApiDocument } from "./openapi.ts";
import { type AllowedOrigins, originAllowed } from "./origin.ts";
import { toAuthRequest } from "./request.ts";
import { registerYjsRoute } from "./yjs-route.ts";

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
  /** The cluster this server is a node of (a driver with `ownership`): relays channels and forwards calls. */
  cluster?: ClusterNode;
}

/** How long a client refused for too many sockets from its address should wait. */
const TOO_MANY_SOCKETS_RETRY_MS = 5_000;

export function tandemPlugin(options: NetworkOptions): FastifyPluginAsync<{ prefix?: string }> {
  const { runtime, limits, sessions } = options;
  const cluster = options.cluster ?? null;
  const fromPeer = (request: FastifyRequest) => cluster !== null && isPeerRequest(request.headers, cluster.secret);
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
          // A peer's relay link carries a client whose origin its own node already checked.
          if (!fromPeer(request) && !originAllowed(request.headers.origin, request.headers.host, options.allowedOrigins)) {
            await reply.code(403).send({ error: { code: ErrorCodes.forbidden, message: "This origin may not connect", group: "auth" } });
          }
        },
      },
      (socket, request) => {
        const peer = fromPeer(request);
        const address = peer ? forwardedAddress(request.headers, request.ip) : request.ip;
        // A peer's link is served here and never relayed on (one hop at most).
        admit(socket, address, true, (quota) => new SocketSession(socket, toAuthRequest(request, address), runtime, limits, runtime.log, terms, budget, quota, peer ? null : cluster));
      },
    );

    /** A socket counts against its address's caps, whichever protocol it speaks; one too many is closed. */
    const admit = (socket: WebSocket, address: string, tandem: boolean, start: (quota: ChannelQuota) => SocketSession): void => {
      if (!perAddress.admit(address)) {
        runtime.log.warn({ address, limit: limits.maxSocketsPerAddress }, "refusing a socket: too many from its address");
        const error = new RateLimited(`At most ${limits.maxSocketsPerAddress} sockets from one address`).toWire();
        if (tandem) socket.send(encodeDown({ kind: Kind.error, channel: 0, error }));
        closeFirmly(socket, CloseCode.rateLimited, withRetryAfter("too many sockets from this address", TOO_MANY_SOCKETS_RETRY_MS));
        return;
      }
      const session = start(channelsPerAddress.of(address));
      sessions.add(session);
      socket.on("close", () => {
        sessions.delete(session);
        perAddress.release(address);
      });
    };

    // A provider's socket is a client's, never a peer's: in a cluster its channel is relayed to the actor's owner.
    registerYjsRoute(app, {
      runtime,
      limits,
      allowedOrigins: options.allowedOrigins,
      start: (socket, request, target) =>
        admit(socket, request.ip, false, (quota) => new YjsSocketSession(socket, toAuthRequest(request, request.ip), runtime, limits, runtime.log, terms, budget, quota, cluster, target)),
    });

    registerCors(app, { allowed: options.allowedOrigins, cors: options.cors ?? null });
    registerActionRoutes(app, runtime, options.allowedOrigins, cluster);
    if (cluster !== null) registerPeerCallRoute(app, runtime, cluster);

    app.get("/openapi.json", async () => openApiDocument(runtime.registry, { prefix }));
  };
}

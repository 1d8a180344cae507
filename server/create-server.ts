/**
 * `createServer(registry, options)`: the actor runtime, its inline client, and the network
 * (fastify: one multiplexed WebSocket per client, stateless HTTP actions, OpenAPI).
 * @public
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from "fastify";
import type { InlineClient } from "../shared/client-types.ts";
import { InvalidArguments } from "../shared/errors.ts";
import { CloseCode, withRetryAfter } from "../shared/protocol/index.ts";
import type { ActorDefinitions, Registry } from "../shared/setup.ts";
import type { Driver } from "./drivers/driver.ts";
import { memoryDriver } from "./drivers/memory.ts";
import { tandemPlugin } from "./http/plugin.ts";
import { answerBadUrl, endRefusedUpgrades } from "./http/refused-upgrade.ts";
import { type CorsOption, originPolicy } from "./http/cors.ts";
import type { AllowedOrigins } from "./http/origin.ts";
import { createInlineClient } from "./inline-client.ts";
import type { LogLevel, ServerLogger } from "./log.ts";
import { DEFAULT_LIMITS, type Limits } from "./network/limits.ts";
import { type RevokeFilter, revokeChannels } from "./network/revoke.ts";
import { SendBudget } from "./network/send-budget.ts";
import type { SocketSession } from "./network/socket-session.ts";
import { ActorRuntime } from "./runtime/actor-runtime.ts";
import { ClusterNode, type ClusterOptions } from "./cluster/cluster-node.ts";
import { inlineRemote } from "./cluster/inline-remote.ts";
import { NO_CHAIN } from "./runtime/call-chain.ts";
import { type InspectorOptions, checkInspectorLimits, inspectorToken } from "./inspector/options.ts";
import { inspectorRoutes } from "./inspector/routes.ts";
import { ServerMetrics } from "./inspector/server-metrics.ts";

export interface ServerOptions {
  /** Where actors are stored. Default: `memoryDriver()` (nothing survives the process). */
  driver?: Driver;
  /** A pino logger, a level for fastify's built-in pino, or false for none. Default "warn". */
  logger?: ServerLogger | LogLevel | false;
  /** Idle time before an actor with no connections is unloaded (0: never). Default 60 s. */
  sleepAfterMs?: number;
  /** Longest an action may run before it fails (0: no limit). Default 60 s. */
  actionTimeoutMs?: number;
  /** Commits after which an actor's log is compacted into a snapshot. Default 1,000. */
  compactAfterCommits?: number;
  /** Frame, channel, pending-action, rate and buffer limits of the network, and the bounds of exactly-once records. */
  limits?: Partial<Limits>;
  /** Browser origins allowed to open WebSockets and call actions over HTTP (a request with another Origin gets 403). Default: same origin only. */
  allowedOrigins?: AllowedOrigins;
  /**
   * CORS, for browser apps served from another origin: `true` (every origin), a list or
   * function of origins, or `{ origins, credentials, maxAgeSeconds }`. The origins are the
   * allowed origins above (one set for WebSockets, HTTP actions and CORS: give them in one
   * place). Default: no CORS headers.
   */
  cors?: CorsOption;
  /**
   * How long clients should wait before reconnecting after close() (sent as a retry-after
   * hint; clients add full jitter on top, so a deploy does not bring them back at once). Default 1,000 ms.
   */
  closeRetryAfterMs?: number;
  /**
   * Trust X-Forwarded-* headers from these proxies (fastify's `trustProxy`): then
   * `request.ip` — what onAuth sees and what `limits.maxSocketsPerAddress` counts by — is the
   * client's address, not the proxy's. Default false (behind an untrusted proxy every client
   * shares the proxy's address).
   */
  trustProxy?: FastifyServerOptions["trustProxy"];
  /**
   * With a driver shared by several processes (`redisDriver`): how this node is reached by
   * its peers, which relay channels and forward calls to the owner of each actor.
   */
  cluster?: ClusterOptions;
  /**
   * Serves the inspector (`GET /inspector`, its API under `/inspector/api/`) and `/metrics`,
   * all behind `Authorization: Bearer <token>` (server/inspector/). Off by default: without
   * it none of these routes exist.
   */
  inspector?: InspectorOptions;
}

/** @experimental */
export interface NetworkStats {
  readonly sockets: number;
  readonly queuedBytes: number;
  /** Bytes of action frames read and not yet answered, over all sockets (their arguments are in memory). */
  readonly pendingActionBytes: number;
}

export interface ListenOptions {
  port?: number;
  host?: string;
}

export interface TandemServer<R> {
  /** The inline client: the typed client API, in process, as trusted server code. */
  readonly client: InlineClient<R>;
  readonly runtime: ActorRuntime;
  /** The fastify app (routes: GET /connect, POST /actors/…, GET /openapi.json). */
  readonly app: FastifyInstance;
  /** To mount Tandem into another fastify app: `other.register(server.plugin, { prefix })`. */
  readonly plugin: FastifyPluginAsync<{ prefix?: string }>;
  readonly log: ServerLogger;
  /**
   * What the network holds now: open sockets, and bytes queued to sockets that are behind
   * (what `limits.maxBufferedBytesTotal` bounds).
   * @experimental
   */
  readonly network: NetworkStats;
  /** The port listened on (0 before listen). */
  readonly port: number;
  /** The base URL clients use, e.g. http://127.0.0.1:8080 (after listen). */
  readonly url: string;
  /** Resolves once alarms stored by the driver are armed; rejects when the driver cannot be used. */
  readonly ready: Promise<void>;
  /** Listens once the driver is usable; rejects (listening to nothing) when it is not, e.g. a data directory that is not writable or is locked by another server. */
  listen(options?: ListenOptions): Promise<string>;
  /**
   * Closes the live connections the filter matches (by actor kind, key, and/or a predicate on
   * `c.conn.auth`) with an `unauthorized` error; gives how many were closed. Stateless HTTP
   * calls run onAuth on every request and need no revoking.
   */
  revoke(filter: RevokeFilter): number;
  /** Stops accepting, stops every actor (onStop, queued work drained), closes sockets with 1001, then the driver. */
  close(): Promise<void>;
}

function fastifyFor(option: ServerOptions["logger"], bodyLimit: number, trustProxy: ServerOptions["trustProxy"] = false): FastifyInstance {
  const common = { bodyLimit, trustProxy, frameworkErrors: answerBadUrl };
  if (option === false) return Fastify({ logger: false, ...common });
  if (option === undefined || typeof option === "string") return Fastify({ logger: { level: option ?? "warn" }, ...common });
  return Fastify({ loggerInstance: asPino(option) as never, ...common }) as unknown as FastifyInstance;
}

/** Fastify wants pino's whole shape; a logger with only the four levels gets the rest. */
function asPino(logger: ServerLogger): ServerLogger & { fatal: ServerLogger["error"]; trace: ServerLogger["debug"] } {
  const full = logger as ServerLogger & { fatal?: ServerLogger["error"]; trace?: ServerLogger["debug"] };
  if (typeof full.fatal === "function" && typeof full.trace === "function") return full as never;
  return {
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
    fatal: (obj, msg) => logger.error(obj, msg),
    trace: (obj, msg) => logger.debug(obj, msg),
    child: (bindings) => asPino(logger.child(bindings)),
  };
}

export function createServer<Actors extends ActorDefinitions>(registry: Registry<Actors>, options: ServerOptions = {}): TandemServer<Registry<Actors>> {
  if (registry?.kind !== "tandem.registry") throw new InvalidArguments("createServer() takes the registry returned by setup()");
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const origins = originPolicy(options.allowedOrigins, options.cors);
  const token = options.inspector === undefined ? null : inspectorToken(options.inspector);
  if (token !== null) checkInspectorLimits(limits);
  const app = fastifyFor(options.logger, limits.maxFrameBytes, options.trustProxy);
  endRefusedUpgrades(app);
  const log = app.log as unknown as ServerLogger;
  const runtime = new ActorRuntime(registry, {
    driver: options.driver ?? memoryDriver(),
    log,
    sleepAfterMs: options.sleepAfterMs,
    actionTimeoutMs: options.actionTimeoutMs,
    compactAfterCommits: options.compactAfterCommits,
    exactlyOnce: limits,
  });
  const ownership = runtime.driver.ownership;
  const cluster = ownership === undefined ? undefined : new ClusterNode(ownership, runtime, log, options.cluster);
  const remote = cluster === undefined ? null : inlineRemote(cluster, runtime);
  const client = createInlineClient<Registry<Actors>>(runtime, NO_CHAIN, remote);
  runtime.client = client;
  runtime.clientWith = (chain) => createInlineClient(runtime, chain, remote);
  const sessions = new Set<SocketSession>();
  const sendBudget = new SendBudget(limits.maxBufferedBytesTotal);
  const plugin = tandemPlugin({ runtime, limits, allowedOrigins: origins.allowed, cors: origins.cors, sessions, sendBudget, cluster });
  const metrics = token === null ? null : new ServerMetrics(Object.keys(registry.actors), limits.inspectorRecentEntries);
  runtime.observer = metrics;
  const registered = app.register(plugin);
  if (metrics !== null && token !== null) {
    const network = () => {
      let channels = 0;
      let pendingActionBytes = 0;
      for (const session of sessions) {
        channels += session.channelCount;
        pendingActionBytes += session.pendingActionBytes;
      }
      return { sockets: sessions.size, channels, queuedBytes: sendBudget.queuedBytes, pendingActionBytes };
    };
    app.register(inspectorRoutes({ runtime, metrics, token, limits, network }));
  }
  const ready = (async () => {
    await cluster?.start();
    await runtime.start();
  })();
  ready.catch((error) => log.error({ err: error }, "the storage driver cannot be used"));
  let port = 0;
  let host = "127.0.0.1";
  let closing: Promise<void> | null = null;

  return {
    client,
    runtime,
    app,
    plugin,
    log,
    ready,
    network: {
      get sockets() {
        return sessions.size;
      },
      get queuedBytes() {
        return sendBudget.queuedBytes;
      },
      get pendingActionBytes() {
        let total = 0;
        for (const session of sessions) total += session.pendingActionBytes;
        return total;
      },
    },
    get port() {
      return port;
    },
    get url() {
      return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
    },
    async listen(listenOptions = {}) {
      await registered;
      // A server whose storage cannot be used would answer every call with an error: refuse to start.
      await ready.catch((error: unknown) => {
        throw new Error(`Tandem cannot start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      });
      host = listenOptions.host ?? "127.0.0.1";
      await app.listen({ port: listenOptions.port ?? 0, host });
      const address = app.server.address();
      port = typeof address === "object" && address !== null ? address.port : (listenOptions.port ?? 0);
      await cluster?.listening(this.url);
      return this.url;
    },
    revoke(filter) {
      return revokeChannels(sessions, filter);
    },
    close() {
      closing ??= (async () => {
        await ready.catch(() => undefined);
        cluster?.close();
        await runtime.close();
        for (const session of sessions) session.close(CloseCode.goingAway, withRetryAfter("server closing", options.closeRetryAfterMs ?? 1000));
        await app.close();
      })();
      return closing;
    },
  };
}

/**
 * `createServer(registry, { driver })`: the actor runtime plus its inline client. The
 * network parts (fastify, WebSocket, HTTP) mount on top of this runtime.
 * @public
 */
import type { InlineClient } from "../shared/client-types.ts";
import type { Registry, ActorDefinitions } from "../shared/setup.ts";
import { InvalidArguments } from "../shared/errors.ts";
import type { Driver } from "./drivers/driver.ts";
import { memoryDriver } from "./drivers/memory.ts";
import { createInlineClient } from "./inline-client.ts";
import { type LogLevel, type ServerLogger, consoleLogger, silentLogger } from "./log.ts";
import { ActorRuntime } from "./runtime/actor-runtime.ts";

export interface ServerOptions {
  /** Where actors are stored. Default: `memoryDriver()` (nothing survives the process). */
  driver?: Driver;
  /** A pino-compatible logger, a level for the built-in one, or false for none. Default "warn". */
  logger?: ServerLogger | LogLevel | false;
  /** Idle time before an actor with no connections is unloaded (0: never). Default 60 s. */
  sleepAfterMs?: number;
  /** Longest an action may run before it fails (0: no limit). Default 60 s. */
  actionTimeoutMs?: number;
  /** Commits after which an actor's log is compacted into a snapshot. Default 1,000. */
  compactAfterCommits?: number;
}

export interface TandemServer<R> {
  /** The inline client: the typed client API, in process, as trusted server code. */
  readonly client: InlineClient<R>;
  readonly runtime: ActorRuntime;
  readonly log: ServerLogger;
  /** Resolves once alarms stored by the driver are armed. */
  readonly ready: Promise<void>;
  /** Stops every actor (onStop, queued work drained), then closes the driver. */
  close(): Promise<void>;
}

function makeLogger(option: ServerOptions["logger"]): ServerLogger {
  if (option === false) return silentLogger();
  if (option === undefined || typeof option === "string") return consoleLogger(option ?? "warn");
  return option;
}

export function createServer<Actors extends ActorDefinitions>(registry: Registry<Actors>, options: ServerOptions = {}): TandemServer<Registry<Actors>> {
  if (registry?.kind !== "tandem.registry") throw new InvalidArguments("createServer() takes the registry returned by setup()");
  const log = makeLogger(options.logger);
  const runtime = new ActorRuntime(registry, {
    driver: options.driver ?? memoryDriver(),
    log,
    sleepAfterMs: options.sleepAfterMs,
    actionTimeoutMs: options.actionTimeoutMs,
    compactAfterCommits: options.compactAfterCommits,
  });
  const client = createInlineClient<Registry<Actors>>(runtime);
  runtime.client = client;
  const ready = runtime.start();
  ready.catch((error) => log.error({ err: error }, "could not read stored alarms"));
  return {
    client,
    runtime,
    log,
    ready,
    async close() {
      await ready.catch(() => undefined);
      await runtime.close();
    },
  };
}

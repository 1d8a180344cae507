/**
 * Stateless HTTP: `POST /actors/:name/actions/:action` calls one action and
 * `POST /actors/:name/resolve` finds or creates an actor. JSON in and out. The key and
 * params travel in the body (or the `x-tandem-key` / `x-tandem-params` headers), never in
 * the query string. onAuth runs before the actor loads, with the request's intents.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AuthRequest, Intent } from "../../shared/context.ts";
import { Forbidden, InvalidArguments, isInternal, toWireError } from "../../shared/errors.ts";
import { normalizeKey } from "../../shared/key.ts";
import { HttpHeader } from "../../shared/protocol/http-headers.ts";
import { MAX_VALUE_DEPTH } from "../../shared/protocol/value.ts";
import { holdsProtoKey } from "../../shared/protocol/proto-keys.ts";
import { nestsDeeperThan } from "../../shared/protocol/value-depth.ts";
import { authenticate } from "../network/auth.ts";
import type { ActorRuntime } from "../runtime/actor-runtime.ts";
import { ConnImpl, newConnId } from "../runtime/connection.ts";
import { type AllowedOrigins, originAllowed } from "./origin.ts";
import { toAuthRequest } from "./request.ts";
import type { ClusterNode } from "../cluster/cluster-node.ts";
import { forwardRequest } from "../cluster/http-forward.ts";
import { forwardedAddress, isPeerRequest } from "../cluster/peer-request.ts";
import { HeldElsewhere, type NodeAddress } from "../drivers/driver.ts";
import { actorId, isActorId } from "../runtime/actor-id.ts";
import { statusFor } from "./status.ts";

type Mode = "get" | "getOrCreate" | "create";

interface CallBody {
  key?: unknown;
  id?: unknown;
  args?: unknown;
  params?: unknown;
  mode?: unknown;
  input?: unknown;
}

function header(request: FastifyRequest, name: string): unknown {
  const raw = request.headers[name];
  if (typeof raw !== "string") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidArguments(`The ${name} header must be JSON`);
  }
  if (nestsDeeperThan(value)) throw new InvalidArguments(`The ${name} header nests deeper than ${MAX_VALUE_DEPTH}`);
  if (holdsProtoKey(value)) throw new InvalidArguments(`"__proto__" is not allowed as a key (the ${name} header)`);
  return value;
}

/**
 * The body, checked before anything walks it: its members (args, params, input, key) may
 * nest as deep as the same values in WebSocket frames (MAX_VALUE_DEPTH), no deeper.
 */
function body(request: FastifyRequest): CallBody {
  const value = request.body ?? {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidArguments("The request body must be a JSON object");
  if (nestsDeeperThan(value, MAX_VALUE_DEPTH + 1)) throw new InvalidArguments(`Values in the request body may nest at most ${MAX_VALUE_DEPTH} levels deep`);
  return value as CallBody;
}

function mode(value: unknown, fallback: Mode): Mode {
  if (value === undefined) return fallback;
  if (value === "get" || value === "getOrCreate" || value === "create") return value;
  throw new InvalidArguments(`mode must be "get", "getOrCreate" or "create"`);
}

export function sendError(runtime: ActorRuntime, reply: FastifyReply, error: unknown, context: Record<string, unknown>): FastifyReply {
  if (isInternal(error)) runtime.log.error({ err: error, ...context }, "internal error");
  const wire = toWireError(error);
  return reply.code(statusFor(wire.code, wire.group)).send({ error: wire });
}

async function target(runtime: ActorRuntime, request: FastifyRequest, authRequest: AuthRequest, name: string, fallback: Mode, intent: Intent) {
  const config = runtime.config(name);
  const input = body(request);
  const params = input.params ?? header(request, HttpHeader.params);
  const how = mode(input.mode, fallback);
  if (input.id !== undefined) {
    const key = await runtime.keyOfId(name, input.id);
    const auth = await authenticate(config, { name, key, params, intents: [intent], request: authRequest });
    return { instance: await runtime.resolveById(name, input.id), auth, params, input };
  }
  const key = normalizeKey(input.key ?? header(request, HttpHeader.key));
  const intents: Intent[] = how === "get" ? [intent] : [intent, "create"];
  const auth = await authenticate(config, { name, key, params, intents, request: authRequest });
  const instance = await runtime.resolve(name, key, how === "get" ? { kind: "get" } : { kind: how, input: input.input });
  return { instance, auth, params, input };
}

/**
 * Cross-site requests (CSRF): a page on another site may POST here with the visitor's
 * cookies. A browser always sends Origin on a cross-origin POST, so a present Origin must be
 * allowed (same origin by default, as for the WebSocket). And the body must be declared JSON:
 * a "simple" request (form or text/plain, no preflight) cannot run anything.
 */
function checkCrossSite(request: FastifyRequest, allowedOrigins: AllowedOrigins | undefined, cluster: ClusterNode | null): void {
  // A peer forwards a request whose origin its own node checked (this host is not the one the browser saw).
  const peer = cluster !== null && isPeerRequest(request.headers, cluster.secret);
  if (!peer && !originAllowed(request.headers.origin, request.headers.host, allowedOrigins)) throw new Forbidden("This origin may not call actions");
  const type = request.headers["content-type"];
  if (typeof type !== "string" || !/^application\/json\s*(;|$)/i.test(type)) {
    throw new InvalidArguments("Requests must have Content-Type: application/json");
  }
}

/**
 * In a cluster: the node that owns the request's actor, when that is not this one and the
 * request did not come from a peer already (one hop at most). Null: serve it here.
 */
async function ownerElsewhere(cluster: ClusterNode | null, request: FastifyRequest, name: string): Promise<NodeAddress | null> {
  if (cluster === null || isPeerRequest(request.headers, cluster.secret)) return null;
  if (!Object.hasOwn(cluster.registry.actors, name)) return null;
  const input = body(request);
  let id: string;
  if (input.id !== undefined) {
    if (!isActorId(input.id)) return null;
    id = input.id;
  } else id = actorId(name, normalizeKey(input.key ?? header(request, HttpHeader.key)));
  return cluster.route(id);
}

/** Serves a call here, or passes it to the actor's owner (also when the lease moved while onAuth ran). */
async function servedOrForwarded(cluster: ClusterNode | null, runtime: ActorRuntime, request: FastifyRequest, reply: FastifyReply, name: string, serve: () => Promise<FastifyReply>): Promise<FastifyReply> {
  const timeoutMs = runtime.defaultActionTimeoutMs > 0 ? runtime.defaultActionTimeoutMs + 5_000 : 0;
  const owner = await ownerElsewhere(cluster, request, name);
  if (owner !== null) return forwardRequest(cluster!, request, reply, owner, timeoutMs);
  try {
    return await serve();
  } catch (error) {
    if (!(error instanceof HeldElsewhere) || cluster === null || isPeerRequest(request.headers, cluster.secret)) throw error;
    const moved = await cluster.route(error.actorId);
    if (moved === null) throw error;
    return forwardRequest(cluster, request, reply, moved, timeoutMs);
  }
}

export function registerActionRoutes(app: FastifyInstance, runtime: ActorRuntime, allowedOrigins?: AllowedOrigins, cluster: ClusterNode | null = null): void {
  app.post<{ Params: { name: string; action: string } }>("/actors/:name/actions/:action", async (request, reply) => {
    const { name, action } = request.params;
    try {
      checkCrossSite(request, allowedOrigins, cluster);
      return await servedOrForwarded(cluster, runtime, request, reply, name, () => call(runtime, request, reply, name, action, cluster));
    } catch (error) {
      return sendError(runtime, reply, error, { actor: name, action });
    }
  });

  app.post<{ Params: { name: string } }>("/actors/:name/resolve", async (request, reply) => {
    const { name } = request.params;
    try {
      checkCrossSite(request, allowedOrigins, cluster);
      return await servedOrForwarded(cluster, runtime, request, reply, name, async () => {
        const { instance } = await target(runtime, request, authRequestOf(request, cluster), name, "get", "get");
        return reply.send({ id: instance.id });
      });
    } catch (error) {
      return sendError(runtime, reply, error, { actor: name });
    }
  });
}

/** The request as onAuth sees it; a peer's forwarded request carries its client's address. */
function authRequestOf(request: FastifyRequest, cluster: ClusterNode | null): AuthRequest {
  const peer = cluster !== null && isPeerRequest(request.headers, cluster.secret);
  return toAuthRequest(request, peer ? forwardedAddress(request.headers, request.ip) : request.ip);
}

async function call(runtime: ActorRuntime, request: FastifyRequest, reply: FastifyReply, name: string, action: string, cluster: ClusterNode | null): Promise<FastifyReply> {
  const authRequest = authRequestOf(request, cluster);
  const { instance, auth, params, input } = await target(runtime, request, authRequest, name, "get", "action");
  const args = input.args ?? [];
  if (!Array.isArray(args)) throw new InvalidArguments("args must be an array");
  const conn = new ConnImpl(newConnId("http"), auth, params, null, authRequest);
  const result = await instance.action(action, args, conn);
  return reply.send({ result: result ?? null });
}

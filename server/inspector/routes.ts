/**
 * The inspector's HTTP surface as one fastify plugin: the page (`GET /inspector`, no data in
 * it, so it loads without the token and asks for it), its JSON API under `/inspector/api/`,
 * and `/metrics`. Every API route and `/metrics` require the bearer token (bearer.ts). The
 * page polls the API (no server-side stream per viewer: a viewer that stops reading or a
 * crowd of viewers holds nothing here beyond their requests).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ActorNotFound, echo } from "../../shared/errors.ts";
import { sendError } from "../http/actions-route.ts";
import type { Limits } from "../network/limits.ts";
import { isActorId } from "../runtime/actor-id.ts";
import type { ActorRuntime } from "../runtime/actor-runtime.ts";
import { liveOf, resetClient, sleepActor, wakeActor } from "./admin.ts";
import { detail, summary } from "./actor-view.ts";
import { BearerCheck } from "./bearer.ts";
import { type NetworkGauges, metricsText } from "./metrics-text.ts";
import { INSPECTOR_PAGE } from "./page.ts";
import { EXPOSITION_CONTENT_TYPE } from "./prometheus.ts";
import type { ServerMetrics } from "./server-metrics.ts";

export interface InspectorRouteOptions {
  readonly runtime: ActorRuntime;
  readonly metrics: ServerMetrics;
  readonly token: string;
  readonly limits: Limits;
  readonly network: () => NetworkGauges;
}

interface ActorParams {
  readonly name: string;
  readonly id: string;
}

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

export function inspectorRoutes(options: InspectorRouteOptions) {
  const { runtime, metrics, limits } = options;
  const bearer = new BearerCheck(options.token);
  const nodeId = runtime.driver.ownership?.nodeId ?? null;
  const log = runtime.log;

  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      bearer.check(request.headers.authorization);
    } catch (error) {
      reply.header("www-authenticate", 'Bearer realm="tandem-inspector"');
      return sendError(runtime, reply, error, {});
    }
  };
  /** The (name, id) of a route, checked: a kind of the registry and an id's shape (no paths, no other text). */
  const target = (request: FastifyRequest): ActorParams => {
    const { name, id } = request.params as ActorParams;
    runtime.config(name);
    if (!isActorId(id)) throw new ActorNotFound(`"${echo(id)}" is not an actor id`);
    return { name, id };
  };
  const answer = (reply: FastifyReply, work: () => Promise<unknown> | unknown) =>
    (async () => work())().then(
      (body) => reply.header("cache-control", "no-store").send(body),
      (error: unknown) => sendError(runtime, reply, error, {}),
    );
  const caller = (request: FastifyRequest) => ({ address: request.ip });

  return async (app: FastifyInstance) => {
    app.get("/inspector", async (_request, reply) => reply.headers(PAGE_HEADERS).send(INSPECTOR_PAGE));

    app.get("/metrics", { onRequest: guard }, async (_request, reply) =>
      reply.header("content-type", EXPOSITION_CONTENT_TYPE).header("cache-control", "no-store").send(metricsText(metrics, runtime, options.network())),
    );

    app.get("/inspector/api/actors", { onRequest: guard }, (_request, reply) =>
      answer(reply, () => {
        const live = [...runtime.loaded.values()];
        const asleep = [...runtime.asleepWithAlarms.values()];
        return {
          nodeId,
          kinds: Object.keys(runtime.registry.actors),
          actors: live.slice(0, limits.inspectorMaxListed).map((instance) => summary(instance, nodeId)),
          total: live.length,
          asleepWithAlarms: asleep.slice(0, limits.inspectorMaxListed).map((alarm) => ({ name: alarm.name, key: alarm.key, id: alarm.id, alarmAt: alarm.at, loaded: false })),
          asleepTotal: asleep.length,
          network: options.network(),
        };
      }),
    );

    app.get("/inspector/api/actors/:name/:id", { onRequest: guard }, (request, reply) =>
      answer(reply, async () => {
        const { name, id } = target(request);
        const live = liveOf(runtime, name, id);
        if (live !== null) return detail(live, nodeId, limits);
        const meta = await runtime.driver.meta(id);
        if (meta === null || meta.name !== name) throw new ActorNotFound(`There is no "${echo(name)}" actor with id ${echo(id)}`);
        const owner = (await runtime.driver.ownership?.owner(id)) ?? null;
        // Not loaded here: live on its owner node (a cluster driver says which), or asleep.
        const status = owner !== null && owner.nodeId !== nodeId ? "elsewhere" : "asleep";
        return { name, key: meta.key, id, loaded: false, status, ownerNodeId: owner?.nodeId ?? null, createdAt: meta.createdAt, alarmAt: runtime.asleepWithAlarms.get(id)?.at ?? null };
      }),
    );

    app.post("/inspector/api/actors/:name/:id/wake", { onRequest: guard }, (request, reply) =>
      answer(reply, async () => {
        const { name, id } = target(request);
        const instance = await wakeActor(runtime, log, name, id, caller(request));
        return { woken: true, status: instance.status };
      }),
    );

    app.post("/inspector/api/actors/:name/:id/sleep", { onRequest: guard }, (request, reply) =>
      answer(reply, async () => {
        const { name, id } = target(request);
        return { slept: await sleepActor(runtime, log, name, id, caller(request)) };
      }),
    );

    app.post("/inspector/api/actors/:name/:id/reset-client", { onRequest: guard }, (request, reply) =>
      answer(reply, async () => {
        const { name, id } = target(request);
        const body = request.body as { clientId?: unknown } | null | undefined;
        return { removed: await resetClient(runtime, log, name, id, body?.clientId, caller(request)) };
      }),
    );
  };
}

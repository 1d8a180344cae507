/**
 * A stateless HTTP call for an actor another node owns: this node passes the request on to
 * the owner as it came (method, path, the client's headers, the JSON body) with the peer's
 * proof and the client's address (peer-request.ts), and answers with the owner's reply.
 * The owner runs onAuth and the action; it never forwards again. An owner that cannot be
 * reached gets `actor_stopped` (503): its lease runs out within `leaseMs` and a retry lands
 * on the next owner.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { ActorStopped } from "../../shared/errors.ts";
import type { NodeAddress } from "../drivers/driver.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { forwardedHeaders } from "./peer-request.ts";

/** Response headers passed back to the client (the rest are hop-by-hop or the owner's own). */
const PASSED_BACK = ["content-type", "retry-after"];

export async function forwardRequest(cluster: ClusterNode, request: FastifyRequest, reply: FastifyReply, owner: NodeAddress, timeoutMs: number): Promise<FastifyReply> {
  const secret = cluster.secret;
  if (secret === null || cluster.isUnreachable(owner.nodeId)) throw unreachable(owner);
  const headers = forwardedHeaders(headerPairs(request), secret, request.ip);
  headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`${owner.url.replace(/\/$/, "")}${request.url}`, {
      method: request.method,
      headers,
      body: request.method === "GET" || request.method === "HEAD" ? undefined : JSON.stringify(request.body ?? {}),
      signal: timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined,
    });
  } catch (error) {
    cluster.markUnreachable(owner.nodeId);
    throw unreachable(owner, error);
  }
  const body = Buffer.from(await response.arrayBuffer());
  reply.code(response.status);
  for (const name of PASSED_BACK) {
    const value = response.headers.get(name);
    if (value !== null) reply.header(name, value);
  }
  return reply.send(body);
}

function unreachable(owner: NodeAddress, cause?: unknown): ActorStopped {
  return new ActorStopped(`The actor's node (${owner.nodeId}) cannot be reached now; retry`, { cause });
}

function* headerPairs(request: FastifyRequest): Iterable<[string, string]> {
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    yield [name, Array.isArray(value) ? value.join(", ") : value];
  }
}

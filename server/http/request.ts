/**
 * The request as `onAuth` sees it: method, URL, standard Headers, client address. One per
 * request, shared by onAuth and `c.conn.request`; its Headers are built when first read
 * (most actors never read them, and the route used to build them twice per call).
 * `address`: the client's, which for a request a peer node forwarded is the one it names.
 */
import type { FastifyRequest } from "fastify";
import type { AuthRequest } from "../../shared/context.ts";
import { PeerHeader } from "../cluster/peer-request.ts";

/** A peer's proof and forwarded address are the nodes' business: actors never see them (nor log the secret). */
const PEER_HEADERS: ReadonlySet<string> = new Set(Object.values(PeerHeader));

export function toAuthRequest(request: FastifyRequest, address: string = request.ip): AuthRequest {
  const raw = request.headers;
  let headers: Headers | null = null;
  return {
    method: request.method,
    url: request.url,
    get headers(): Headers {
      return (headers ??= toHeaders(raw));
    },
    ip: address,
  };
}

function toHeaders(raw: FastifyRequest["headers"]): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || PEER_HEADERS.has(name)) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, String(value));
  }
  return headers;
}

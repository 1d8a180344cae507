/**
 * The request as `onAuth` sees it: method, URL, standard Headers, client address. One per
 * request, shared by onAuth and `c.conn.request`; its Headers are built when first read
 * (most actors never read them, and the route used to build them twice per call).
 */
import type { FastifyRequest } from "fastify";
import type { AuthRequest } from "../../shared/context.ts";

export function toAuthRequest(request: FastifyRequest): AuthRequest {
  const raw = request.headers;
  let headers: Headers | null = null;
  return {
    method: request.method,
    url: request.url,
    get headers(): Headers {
      return (headers ??= toHeaders(raw));
    },
    ip: request.ip,
  };
}

function toHeaders(raw: FastifyRequest["headers"]): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, String(value));
  }
  return headers;
}

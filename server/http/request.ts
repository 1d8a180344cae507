/** The request as `onAuth` sees it: method, URL, standard Headers, client address. */
import type { FastifyRequest } from "fastify";
import type { AuthRequest } from "../../shared/context.ts";

export function toAuthRequest(request: FastifyRequest): AuthRequest {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, String(value));
  }
  return { method: request.method, url: request.url, headers, ip: request.ip };
}

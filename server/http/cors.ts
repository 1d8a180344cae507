/**
 * Cross-origin use from browsers. One set of allowed origins decides everything: which
 * pages may open a WebSocket (server/http/origin.ts), call actions over HTTP, and — with
 * `cors` on — read the answers (CORS headers, preflights). `allowedOrigins` and
 * `cors.origins` are two spellings of that one set; giving both is refused.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ErrorCodes, InvalidArguments, echo } from "../../shared/errors.ts";
import { HttpHeader } from "../../shared/protocol/http-headers.ts";
import { type AllowedOrigins, originAllowed } from "./origin.ts";

/** `cors` of createServer. @public */
export interface CorsOptions {
  /**
   * The origins whose pages may use this server — the same set guards WebSocket upgrades and
   * HTTP actions (it is `allowedOrigins`; give one or the other). `true` or "*": every origin.
   * Default: `allowedOrigins`, or every origin when that is absent too.
   */
  origins?: AllowedOrigins | true;
  /**
   * Answer with `Access-Control-Allow-Credentials: true`, so a page's cookies go with its
   * calls (`fetch(…, { credentials: "include" })`). Only with listed origins or a function:
   * every site acting with your users' cookies is refused. Default false.
   */
  credentials?: boolean;
  /** How long a browser may cache a preflight's answer (`Access-Control-Max-Age`), in seconds. Default 600. */
  maxAgeSeconds?: number;
}

/** `cors: true` (every origin), a list or function of origins, or the full options. @public */
export type CorsOption = boolean | AllowedOrigins | CorsOptions;

/** What the HTTP surface does with browser origins. */
export interface OriginPolicy {
  /** The allowed origins (undefined: the server's own origin only). */
  readonly allowed: AllowedOrigins | undefined;
  /** CORS headers for the allowed origins, or null for none (the default). */
  readonly cors: { readonly credentials: boolean; readonly maxAgeSeconds: number } | null;
}

const DEFAULT_MAX_AGE_SECONDS = 600;
/** The headers the Tandem client sends with an HTTP action. */
const REQUEST_HEADERS = ["content-type", HttpHeader.params, HttpHeader.key].join(", ");

/** Refuses anything but "*", a function, or a list of origins as browsers send them (`https://app.example`, no path, no slash). */
export function checkAllowedOrigins(value: unknown, option: string): AllowedOrigins {
  if (value === "*" || typeof value === "function") return value as AllowedOrigins;
  if (!Array.isArray(value)) throw new InvalidArguments(`${option} takes "*", a list of origins or a function, got ${echo(value)}`);
  for (const origin of value as unknown[]) {
    if (typeof origin !== "string") throw new InvalidArguments(`${option}: ${echo(origin)} is not an origin`);
    let parsed: string | null = null;
    try {
      const url = new URL(origin);
      if (url.protocol === "http:" || url.protocol === "https:") parsed = url.origin;
    } catch {
      parsed = null;
    }
    if (parsed !== origin) {
      const hint = parsed === null ? "" : ` (did you mean ${echo(parsed)}?)`;
      throw new InvalidArguments(`${option}: ${echo(origin)} is not an origin as browsers send it: http(s)://host[:port], no path${hint}`);
    }
  }
  return value as readonly string[];
}

/** The one origin policy of createServer's `allowedOrigins` and `cors` options. Throws InvalidArguments on bad or conflicting values. */
export function originPolicy(allowedOrigins: AllowedOrigins | undefined, cors: CorsOption | undefined): OriginPolicy {
  const listed = allowedOrigins === undefined ? undefined : checkAllowedOrigins(allowedOrigins, "allowedOrigins");
  if (cors === undefined || cors === false) return { allowed: listed, cors: null };
  const options: CorsOptions =
    cors === true ? {} : typeof cors === "function" || Array.isArray(cors) || cors === "*" ? { origins: cors as AllowedOrigins } : (cors as CorsOptions);
  if (typeof options !== "object" || options === null) throw new InvalidArguments(`cors takes true, origins or { origins, credentials, maxAgeSeconds }, got ${echo(cors)}`);
  if (options.origins !== undefined && listed !== undefined) {
    throw new InvalidArguments("allowedOrigins and cors.origins both name the allowed origins: give them once");
  }
  const origins = options.origins === undefined ? (listed ?? "*") : options.origins === true ? "*" : checkAllowedOrigins(options.origins, "cors.origins");
  const credentials = options.credentials ?? false;
  if (typeof credentials !== "boolean") throw new InvalidArguments(`cors.credentials must be a boolean, got ${echo(credentials)}`);
  if (credentials && origins === "*") {
    throw new InvalidArguments("cors.credentials with every origin would let any site call with your users' cookies: list the origins");
  }
  const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0 || maxAgeSeconds > 86_400) {
    throw new InvalidArguments(`cors.maxAgeSeconds must be a whole number of seconds from 0 to 86400, got ${echo(maxAgeSeconds)}`);
  }
  return { allowed: origins, cors: { credentials, maxAgeSeconds } };
}

/**
 * CORS on the plugin's HTTP routes: every answer to an allowed Origin names it (and varies by
 * Origin); preflights (OPTIONS) of allowed origins get 204 with the methods and headers the
 * client uses, others 403 without CORS headers (the browser then refuses the call). Nothing
 * is registered when `cors` is off: cross-origin pages cannot read answers, as before.
 */
export function registerCors(app: FastifyInstance, policy: OriginPolicy): void {
  const cors = policy.cors;
  if (cors === null) return;
  const allow = (request: FastifyRequest, reply: FastifyReply): boolean => {
    void reply.header("vary", "Origin");
    const origin = request.headers.origin;
    if (origin === undefined || !originAllowed(origin, request.headers.host, policy.allowed)) return false;
    void reply.header("access-control-allow-origin", origin);
    if (cors.credentials) void reply.header("access-control-allow-credentials", "true");
    return true;
  };
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "OPTIONS") allow(request, reply);
  });
  const preflight = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.headers.origin !== undefined && !allow(request, reply)) {
      return reply.code(403).send({ error: { code: ErrorCodes.forbidden, message: "This origin may not call this server", group: "auth" } });
    }
    return reply
      .code(204)
      .header("access-control-allow-methods", "GET, POST")
      .header("access-control-allow-headers", REQUEST_HEADERS)
      .header("access-control-max-age", String(cors.maxAgeSeconds))
      .send();
  };
  app.options("/actors/*", preflight);
  app.options("/openapi.json", preflight);
}

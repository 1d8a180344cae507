/**
 * Which browser origins may open a WebSocket (cross-site WebSocket hijacking: a page on
 * another site could otherwise use the visitor's cookies). Requests without an Origin
 * header come from non-browser clients and pass. By default only same-origin pages pass.
 * The same set guards HTTP actions and, with `cors`, gets CORS headers (server/http/cors.ts).
 */
export type AllowedOrigins = "*" | readonly string[] | ((origin: string) => boolean);

export function originAllowed(origin: string | undefined, host: string | undefined, allowed: AllowedOrigins | undefined): boolean {
  if (origin === undefined) return true;
  if (allowed === "*") return true;
  if (typeof allowed === "function") {
    try {
      return allowed(origin) === true;
    } catch {
      return false; // the app's own check failed: refuse rather than fail the request
    }
  }
  if (allowed !== undefined) return allowed.includes(origin);
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

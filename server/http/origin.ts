/**
 * Which browser origins may open a WebSocket (cross-site WebSocket hijacking: a page on
 * another site could otherwise use the visitor's cookies). Requests without an Origin
 * header come from non-browser clients and pass. By default only same-origin pages pass.
 */
export type AllowedOrigins = "*" | readonly string[] | ((origin: string) => boolean);

export function originAllowed(origin: string | undefined, host: string | undefined, allowed: AllowedOrigins | undefined): boolean {
  if (origin === undefined) return true;
  if (allowed === "*") return true;
  if (typeof allowed === "function") return allowed(origin);
  if (allowed !== undefined) return allowed.includes(origin);
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

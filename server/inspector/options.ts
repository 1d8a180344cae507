/**
 * The inspector's option of createServer (`inspector: { token }`): off without it, and then
 * no inspector route and no `/metrics` exist at all (404). Its bounds are in
 * server/network/limits.ts (`inspectorRecentEntries`, `inspectorMaxStateBytes`, `inspectorMaxListed`).
 * @public
 */
import { InvalidArguments } from "../../shared/errors.ts";

export interface InspectorOptions {
  /**
   * The bearer token every inspector API route and `/metrics` require
   * (`Authorization: Bearer <token>`): at least 16 characters, printable ASCII, at most 512.
   */
  token: string;
}

export const MIN_TOKEN_LENGTH = 16;
export const MAX_TOKEN_LENGTH = 512;

/** The token, checked: a weak or malformed one refuses to start the server. */
export function inspectorToken(options: InspectorOptions): string {
  const token: unknown = options?.token;
  if (typeof token !== "string" || token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
    throw new InvalidArguments(`inspector.token must be ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} printable ASCII characters without spaces`);
  }
  return token;
}

/** The inspector's limits (server/network/limits.ts), checked: a bad one refuses to start the server rather than fail every actor load. */
export function checkInspectorLimits(limits: { readonly inspectorRecentEntries: number; readonly inspectorMaxStateBytes: number; readonly inspectorMaxListed: number }): void {
  const bounds: [keyof typeof limits, number][] = [
    ["inspectorRecentEntries", 100_000],
    ["inspectorMaxStateBytes", 2 ** 31],
    ["inspectorMaxListed", 1_000_000],
  ];
  for (const [name, max] of bounds) {
    const value = limits[name];
    if (!Number.isInteger(value) || value < 0 || value > max) throw new InvalidArguments(`limits.${name} must be a whole number from 0 to ${max}, not ${String(value)}`);
  }
}

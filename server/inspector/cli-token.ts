/**
 * `tandem serve --inspector`: the token from $TANDEM_INSPECTOR_TOKEN, else a random one
 * (32 bytes, base64url), which the CLI prints once at start.
 */
import { randomBytes } from "node:crypto";

export function inspectorTokenFromEnv(fromEnv: string | undefined): { readonly token: string; readonly generated: boolean } {
  if (fromEnv !== undefined && fromEnv !== "") return { token: fromEnv, generated: false };
  return { token: randomBytes(32).toString("base64url"), generated: true };
}

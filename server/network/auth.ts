/**
 * Network auth: `onAuth` runs with the request's intents before the actor is loaded or
 * created, so unauthenticated traffic costs the actor nothing. Its result becomes
 * `c.conn.auth`. Actors without onAuth accept everyone (auth undefined).
 */
import type { AnyActorConfig } from "../../shared/actor.ts";
import type { AuthRequest, Intent } from "../../shared/context.ts";

export interface AuthInput {
  readonly name: string;
  readonly key: readonly string[];
  readonly params: unknown;
  readonly intents: readonly Intent[];
  readonly request: AuthRequest | undefined;
}

export async function authenticate(config: AnyActorConfig, input: AuthInput): Promise<unknown> {
  if (config.onAuth === undefined) return undefined;
  return config.onAuth({
    request: input.request,
    params: input.params ?? {},
    intents: new Set(input.intents),
    actor: { name: input.name, key: input.key },
  });
}

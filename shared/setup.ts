/**
 * `setup({ use: { ... } })`: the registry of actor kinds a server runs and a client types
 * itself against (`createClient<typeof registry>`).
 * @public
 */
import type { AnyActorDefinition } from "./actor.ts";
import { InvalidArguments } from "./errors.ts";

export type ActorDefinitions = Record<string, AnyActorDefinition>;

export interface Registry<Actors extends ActorDefinitions> {
  readonly kind: "tandem.registry";
  readonly actors: Actors;
}

export type AnyRegistry = Registry<ActorDefinitions>;

export interface SetupOptions<Actors extends ActorDefinitions> {
  use: Actors;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
/** Names a client already uses for itself. */
const RESERVED = new Set(["dispose", "clientId", "ready", "resetLocalData", "inspect", "then", "constructor", "__proto__"]);

/** Collects actor kinds under the names clients use for them. @public */
export function setup<Actors extends ActorDefinitions>(options: SetupOptions<Actors>): Registry<Actors> {
  if (typeof options !== "object" || options === null || typeof options.use !== "object" || options.use === null) {
    throw new InvalidArguments("setup() takes { use: { name: actor(...) } }");
  }
  for (const [name, definition] of Object.entries(options.use)) {
    if (!NAME.test(name)) throw new InvalidArguments(`"${name}" is not a valid actor name (letters, digits, _ and -)`);
    if (RESERVED.has(name)) throw new InvalidArguments(`"${name}" is reserved and cannot name an actor`);
    if ((definition as { kind?: unknown })?.kind !== "tandem.actor") {
      throw new InvalidArguments(`"${name}" is not an actor definition: wrap it in actor({...})`);
    }
  }
  return { kind: "tandem.registry", actors: { ...options.use } };
}

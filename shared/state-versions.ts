/**
 * `stateVersionsOf(registry)`: the state version of every actor kind of a registry, for
 * `createClient(url, { stateVersions })` — so a client built with the same actor definitions
 * never shows or sends a replica stored by another version (docs/versioning.md).
 * @public
 */
import type { Registry, ActorDefinitions } from "./setup.ts";

export type StateVersions<Actors extends ActorDefinitions> = { readonly [K in keyof Actors]: number };

export function stateVersionsOf<Actors extends ActorDefinitions>(registry: Registry<Actors>): StateVersions<Actors> {
  const versions: Record<string, number> = {};
  for (const [name, definition] of Object.entries(registry.actors)) versions[name] = (definition.config.version as number | undefined) ?? 1;
  return versions as StateVersions<Actors>;
}

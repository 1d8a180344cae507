/**
 * The user's registry module for `tandem serve`: a JavaScript file is imported as it is; a
 * TypeScript file (.ts, .mts, .cts, .tsx) through tsx's loader, registered only then, so
 * that users keep writing TypeScript while the library itself runs as compiled JavaScript.
 */
import { pathToFileURL } from "node:url";
import type { AnyRegistry } from "../shared/setup.ts";

const TYPESCRIPT = /\.(?:[mc]?ts|tsx)$/i;

let tsxRegistered = false;

/** Whether a module path needs a TypeScript loader. */
export function isTypeScriptModule(path: string): boolean {
  return TYPESCRIPT.test(path);
}

/** Imports the module at an absolute path; resolves with its `registry` (or default export), if it is one. */
export async function importRegistry(absolutePath: string): Promise<AnyRegistry | undefined> {
  if (isTypeScriptModule(absolutePath) && !tsxRegistered) {
    const { register } = await import("tsx/esm/api");
    register();
    tsxRegistered = true;
  }
  const mod = (await import(pathToFileURL(absolutePath).href)) as { registry?: AnyRegistry; default?: AnyRegistry };
  const registry = mod.registry ?? mod.default;
  return registry?.kind === "tandem.registry" ? registry : undefined;
}

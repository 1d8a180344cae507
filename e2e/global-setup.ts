/**
 * Before the browser tests: the library (dist/, which the demo server and the specs import as
 * `tandem/server`) and the demo app, each built only when stale.
 */
import { ensureDemoBuilt } from "../demo/build.ts";
import { ensureLibraryBuilt } from "../scripts/build.mjs";

export default async function globalSetup(): Promise<void> {
  const log = (line: string) => console.log(`[e2e] ${line}`);
  ensureLibraryBuilt({ log });
  await ensureDemoBuilt({ log });
}

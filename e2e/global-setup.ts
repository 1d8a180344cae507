/** Builds the demo app once before the browser tests (skipped when dist/demo is fresh). */
import { ensureDemoBuilt } from "../demo/build.ts";

export default async function globalSetup(): Promise<void> {
  await ensureDemoBuilt({ log: (line) => console.log(`[e2e] ${line}`) });
}

#!/usr/bin/env node
// The `tandem` command: the compiled library (dist/, `npm run build`). A TypeScript actors
// module (`tandem serve ./actors.ts`) is loaded through tsx, registered by the CLI only then.
import { existsSync } from "node:fs";

const cli = new URL("../dist/server/cli.js", import.meta.url);
if (!existsSync(cli)) {
  console.error("tandem: the library is not built (dist/server/cli.js is missing): run `npm run build`.");
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));

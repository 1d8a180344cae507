#!/usr/bin/env node
// The `tandem` command. Loads TypeScript through tsx so `tandem serve ./actors.ts` works as is.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../server/cli.ts");
process.exitCode = await main(process.argv.slice(2));

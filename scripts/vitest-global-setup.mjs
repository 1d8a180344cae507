// vitest's global setup: some tests run `bin/tandem.mjs`, which runs the compiled library
// (dist/), so the library is built first when its sources changed since the last build.
import { ensureLibraryBuilt } from "./build.mjs";

export default function setup() {
  ensureLibraryBuilt({ log: (line) => console.log(line) });
}

/**
 * One Vite config for the demo build and for vitest. The aliases let any file in the repo
 * import the library by its package names (`tandem`, `tandem/client`, `tandem/server`)
 * with no build step.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^tandem$/, replacement: here("./shared/index.ts") },
      { find: /^tandem\/client$/, replacement: here("./client/index.ts") },
      { find: /^tandem\/server$/, replacement: here("./server/index.ts") },
    ],
  },
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "bench/**", "e2e/**", "dist/**", ...(process.env.SCRATCH ? [] : ["scratch/**"])],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
  },
});

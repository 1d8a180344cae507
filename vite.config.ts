/**
 * One Vite config for the demo build and for vitest. The aliases let any file in the repo
 * import the library by its package names (`tandem`, `tandem/client`, `tandem/server`)
 * with no build step.
 *
 * The demo (demo/index.html) is the Vite root for `vite build` (→ dist/demo, served by
 * `npm start`) and `vite` (dev server); vitest runs in mode "test" and keeps the repo root.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig(({ mode }) => ({
  ...(mode === "test"
    ? {}
    : {
        root: here("./demo"),
        publicDir: here("./demo/public"),
        build: {
          outDir: here("./dist/demo"),
          emptyOutDir: true,
          target: "es2022",
          sourcemap: true,
          chunkSizeWarningLimit: 1000,
        },
      }),
  resolve: {
    alias: [
      { find: /^tandem$/, replacement: here("./shared/index.ts") },
      { find: /^tandem\/client$/, replacement: here("./client/index.ts") },
      { find: /^tandem\/server$/, replacement: here("./server/index.ts") },
      { find: /^tandem\/react$/, replacement: here("./client/react/index.ts") },
      { find: /^tandem\/devtools$/, replacement: here("./client/devtools/index.ts") },
    ],
  },
  test: {
    include: ["**/*.test.ts", "**/*.test.tsx"],
    // Builds the library (dist/) when stale: tests of `tandem serve` run the compiled CLI.
    globalSetup: ["scripts/vitest-global-setup.mjs"],
    exclude: ["node_modules/**", "bench/**", "e2e/**", "dist/**", ...(process.env.SCRATCH ? [] : ["scratch/**"])],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
  },
}));

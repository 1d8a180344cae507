/**
 * Browser tests (e2e/): Debian's Chromium (never a downloaded browser), headless. Each test
 * worker starts the demo server in its own process (port 0, a temporary data directory),
 * and every browser context reaches it through its own TCP proxy, which is how the tests
 * take one user offline (see e2e/fixtures.ts). The demo app is built once, up front, when
 * dist/demo is missing or stale (e2e/global-setup.ts).
 */
import { defineConfig } from "@playwright/test";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  // Not test-results/ itself: Playwright empties its output directory, and npm test keeps
  // other reports (vitest.json, playwright.json) and the screenshots there.
  outputDir: "test-results/e2e",
  globalSetup: "./e2e/global-setup.ts",
  // Generous for a loaded 2-core machine; the tests take a few seconds each when it is quiet.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // One worker: on these 2-core machines two workers (each with a server and several
  // Chromium renderers) were slower in total than one. E2E_WORKERS=2 to try otherwise.
  workers: process.env.E2E_WORKERS ? Number(process.env.E2E_WORKERS) : 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
  },
});

/**
 * Fixtures of the browser tests:
 * - `demo` (per worker): the demo server in this process — file driver in a temporary
 *   directory, port 0 — serving the built app (dist/demo, built by global-setup.ts);
 * - `board`: a board key of its own for every test;
 * - `openUser(name)`: a browser context (one user: its own IndexedDB, service worker and
 *   tabs) that reaches the server through its own TCP proxy, signed in on the board.
 *   `user.offline()` cuts the proxy (open WebSockets really close) and sets the context
 *   offline (navigator.onLine is false, fetches fail); `user.online()` undoes both.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test as base, expect, type BrowserContext, type Locator, type Page } from "@playwright/test";
import { createDemoServer, type DemoServer } from "../demo/app-server.ts";
import { tcpProxy, type TcpProxy } from "../tests/support/tcp-proxy.ts";

export { expect };

/** The inspector token of the demo server the tests start (its /inspector and /metrics are on). */
export const INSPECTOR_TOKEN = "e2e-inspector-token-0123456789";

export interface User {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly proxy: TcpProxy;
  /** The board's URL through this user's proxy. */
  readonly url: string;
  offline(): Promise<void>;
  online(): Promise<void>;
  /** Another tab of the same user (same context: same storage, same service worker). */
  newTab(): Promise<Page>;
}

export interface OpenUserOptions {
  /** The read-only viewer link (?mode=view). */
  viewer?: boolean;
  /** Wait for the service worker to be active (needed before a reload offline). Default true. */
  serviceWorker?: boolean;
}

interface WorkerFixtures {
  demo: DemoServer;
}

interface TestFixtures {
  board: string;
  openUser: (name: string, options?: OpenUserOptions) => Promise<User>;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  demo: [
    async ({}, use) => {
      const dir = await mkdtemp(join(tmpdir(), "tandem-e2e-"));
      const demo = createDemoServer({ dataDir: dir, logger: "error", inspectorToken: INSPECTOR_TOKEN });
      await demo.server.listen({ port: 0, host: "127.0.0.1" });
      await use(demo);
      await demo.server.close();
      await rm(dir, { recursive: true, force: true });
    },
    { scope: "worker" },
  ],

  board: async ({}, use) => {
    await use(`e2e-${randomUUID().slice(0, 8)}`);
  },

  openUser: async ({ browser, demo, board }, use) => {
    const opened: { context: BrowserContext; proxy: TcpProxy }[] = [];
    await use(async (name, options = {}) => {
      const proxy = await tcpProxy(demo.server.port);
      const context = await browser.newContext();
      opened.push({ context, proxy });
      const search = new URLSearchParams({ board });
      if (options.viewer) search.set("mode", "view");
      const url = `${proxy.url}/?${search}`;
      const signIn = async (page: Page) => {
        await page.goto(url);
        await page.locator("#name").fill(name);
        await page.locator("#name").press("Enter");
        await expectSynced(page);
        await expect(page.locator("#notes .cm-content")).toHaveAttribute("contenteditable", options.viewer ? "false" : "true");
        if (options.serviceWorker !== false) await page.evaluate(async () => void (await navigator.serviceWorker.ready));
      };
      const page = await context.newPage();
      await signIn(page);
      return {
        name,
        context,
        page,
        proxy,
        url,
        async offline() {
          proxy.cut();
          await context.setOffline(true);
        },
        async online() {
          await context.setOffline(false);
          proxy.restore();
        },
        async newTab() {
          const tab = await context.newPage();
          await tab.goto(url); // signed in already: the name is in this context's localStorage
          return tab;
        },
      };
    });
    for (const { context, proxy } of opened) {
      await context.close();
      await proxy.close();
    }
  },
});

// ---- page helpers ---------------------------------------------------------------------

export const notes = (page: Page): Locator => page.locator("#notes .cm-content");
export const todoTexts = (page: Page): Promise<string[]> => page.locator("#todo-list .todo-text").allTextContents();
export const todo = (page: Page, text: string): Locator => page.locator("#todo-list .todo").filter({ has: page.locator(".todo-text", { hasText: new RegExp(`^${escape(text)}$`) }) });
export const toasts = (page: Page): Locator => page.locator("#toasts .toast");
export const status = (page: Page): Locator => page.locator("#status");

/** The notes as the editor shows them (one string, lines joined by \n). */
export async function notesText(page: Page): Promise<string> {
  return page.evaluate(() => window.tandemDemo?.notes() ?? "");
}

/**
 * Writes at the end of the notes: key by key (`keys: true`), or as one input event like a
 * paste or an IME commit (faster: one edit instead of one per character).
 */
export async function typeInNotes(page: Page, text: string, options: { keys?: boolean; at?: "start" | "end" } = {}): Promise<void> {
  await notes(page).click();
  await page.keyboard.press(options.at === "start" ? "Control+Home" : "Control+End");
  if (options.keys) await page.keyboard.type(text);
  else await page.keyboard.insertText(text);
}

export async function addTodo(page: Page, text: string): Promise<void> {
  await page.locator("#todo-input").fill(text);
  await page.locator("#todo-input").press("Enter");
}

/** Connected, caught up, nothing pending. */
export async function expectSynced(page: Page, timeout = 15_000): Promise<void> {
  await expect(status(page)).toHaveAttribute("data-status", "synced", { timeout });
  await expect(status(page)).toHaveAttribute("data-pending", "0", { timeout });
}

/** Every action this page called is stored in IndexedDB (safe to reload). */
export async function outboxStored(page: Page): Promise<void> {
  await page.waitForFunction(() => window.tandemDemo?.conn.outbox.every((entry) => entry.seq > 0) ?? false);
}

const SCREENSHOTS = join("test-results", "screenshots");

/** Saves a screenshot of the page under test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

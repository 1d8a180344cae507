/**
 * The server inspector in Chromium (issue 16), against a real server in this process: the
 * page asks for the token (and refuses a wrong one), then shows a board actor live while a
 * client in this process (through its own TCP proxy) calls actions, sets presence, goes
 * offline with actions queued in its outbox, and reconnects. Screenshots of each step go to
 * test-results/screenshots/, or to docs/screenshots/inspector-*.png (the README's) with
 * UPDATE_SCREENSHOTS=1 — so a test run leaves the tracked images alone.
 */
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { actor, setup } from "../shared/index.ts";
import { createClient } from "../client/index.ts";
import { createServer } from "../server/index.ts";
import { tcpProxy } from "../tests/support/tcp-proxy.ts";

const TOKEN = "e2e-inspector-token-0123456789abcdef";

const board = actor({
  state: { title: "Sprint board", cards: [] as { text: string; done: boolean }[] },
  onAuth: ({ params }: { params: { user?: string } }) => ({ userId: params.user ?? "anonymous" }),
  actions: {
    add: (c, text: string) => {
      c.state.cards.push({ text, done: false });
      c.broadcast("added", text);
      return c.state.cards.length;
    },
    finish: (c, index: number) => {
      const card = c.state.cards[index];
      if (card === undefined) throw new Error("no such card");
      card.done = true;
    },
    remindLater: (c) => c.schedule.after(3_600_000, "add", "reminder"),
  },
});
const registry = setup({ use: { board } });

test("the inspector shows a board live through actions, offline edits and a reconnect", async ({ page }) => {
  const root = join(test.info().config.rootDir, "..");
  const SHOTS = process.env.UPDATE_SCREENSHOTS === "1" ? join(root, "docs", "screenshots") : join(root, "test-results", "screenshots");
  const server = createServer(registry, { logger: false, inspector: { token: TOKEN } });
  await server.listen({ port: 0, host: "127.0.0.1" });
  const proxy = await tcpProxy(server.port);
  const client = createClient<typeof registry>(proxy.url);
  try {
    const conn = client.board.getOrCreate(["team-a"], { params: { user: "ada" } }).connect();
    await conn.whenSynced();
    await conn.add("Write the inspector");
    await conn.add("Measure /metrics");
    await conn.remindLater();
    conn.awareness.setLocalStateField("cursor", { card: 1 });

    // The page without a token asks for one; a wrong one is refused and asked again.
    await page.goto(`${server.url}/inspector`);
    await expect(page.getByTestId("token-input")).toBeVisible();
    await page.getByTestId("token-input").fill("not-the-token-0123456789");
    await page.getByRole("button", { name: "Open" }).click();
    await expect(page.getByTestId("error")).toContainText("Wrong inspector token");
    await expect(page.getByTestId("token-input")).toBeVisible();
    await page.getByTestId("token-input").fill(TOKEN);
    await page.getByRole("button", { name: "Open" }).click();

    const row = page.getByTestId("actors").locator("tr", { hasText: "team-a" });
    await expect(row).toContainText("running");
    await row.click();
    const detail = page.getByTestId("detail");
    await expect(page.getByTestId("state")).toContainText("Measure /metrics");
    await expect(page.getByTestId("connections")).toContainText('"userId":"ada"');
    await expect(page.getByTestId("presence")).toContainText('"cursor":{"card":1}');
    await expect(page.getByTestId("recent")).toContainText("add");
    await expect(page.getByTestId("recent")).toContainText("added");
    await expect(page.getByTestId("schedules")).toContainText("reminder");
    await expect(page.getByTestId("exactly-once")).toContainText(client.clientId);
    await page.screenshot({ path: join(SHOTS, "inspector-live.png"), fullPage: true });

    // Offline: the link drops, the client keeps actions in its outbox; the inspector sees no connection.
    proxy.cut();
    await expect(row).toContainText(/running\s*0/);
    const queued = [conn.add("Offline card"), conn.finish(0)];
    await expect(page.getByTestId("state")).not.toContainText("Offline card");
    await page.screenshot({ path: join(SHOTS, "inspector-offline.png"), fullPage: true });

    // Reconnect: the outbox flushes; the state, the recent actions and the client's last seq follow.
    proxy.restore();
    await Promise.all(queued);
    await expect(page.getByTestId("state")).toContainText("Offline card");
    await expect(page.getByTestId("state")).toContainText("true");
    await expect(page.getByTestId("recent")).toContainText("finish");
    await expect(page.getByTestId("connections")).toContainText('"userId":"ada"');
    await expect(detail).toContainText("Connections (1)");
    await page.screenshot({ path: join(SHOTS, "inspector-reconnected.png"), fullPage: true });

    // A failing action shows with its error code.
    await expect(conn.finish(99)).rejects.toThrow();
    await expect(page.getByTestId("recent")).toContainText("internal_error");

    // Admin: put it to sleep from the page; it shows asleep; wake it again.
    conn.dispose();
    await page.getByTestId("sleep").click();
    await expect(detail).toContainText("Asleep");
    await page.screenshot({ path: join(SHOTS, "inspector-asleep.png"), fullPage: true });
    await page.getByTestId("wake").click();
    await expect(page.getByTestId("state")).toContainText("Offline card");

    // A link with the token in its fragment (never the query string): read, then cleared from
    // the address bar — in the same tab (only the fragment changes) and in a new one.
    await page.goto(`${server.url}/inspector#token=${TOKEN}`);
    await expect(page.getByTestId("actors")).toContainText("team-a");
    await expect.poll(() => page.url()).not.toContain(TOKEN);
    const fresh = await page.context().browser()!.newContext();
    const other = await fresh.newPage();
    await other.goto(`${server.url}/inspector#token=${TOKEN}`);
    await expect(other.getByTestId("actors")).toContainText("team-a");
    await expect.poll(() => other.url()).not.toContain(TOKEN);
    await fresh.close();
  } finally {
    client.dispose();
    await proxy.close();
    await server.close();
  }
});

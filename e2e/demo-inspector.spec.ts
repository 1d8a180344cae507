/**
 * The server inspector against the demo itself (issue 16): Alice works on a board in one
 * context while the inspector, opened with the token in its link, shows the board actor —
 * its todos, Alice's connection and her actions — through an offline spell and the reconnect
 * that flushes her outbox. Screenshot: test-results/screenshots/demo-inspector.png, or
 * docs/screenshots/ with UPDATE_SCREENSHOTS=1.
 */
import { join } from "node:path";
import { INSPECTOR_TOKEN, addTodo, expect, expectSynced, test } from "./fixtures.ts";

test("the inspector follows the demo's board through actions, offline work and the reconnect", async ({ openUser, demo, board, browser }) => {
  const alice = await openUser("Alice");
  await addTodo(alice.page, "Seen by the inspector");
  await expectSynced(alice.page);

  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${demo.server.url}/inspector#token=${INSPECTOR_TOKEN}`);
    const row = page.getByTestId("actors").locator("tr", { hasText: board });
    await expect(row).toContainText("running");
    await row.click();
    await expect(page.getByTestId("state")).toContainText("Seen by the inspector");
    await expect(page.getByTestId("connections")).toContainText("Alice");
    await expect(page.getByTestId("recent")).toContainText("addTodo");

    await alice.offline();
    await expect(row).toContainText(/running\s*0/);
    await addTodo(alice.page, "Written offline");
    await expect(page.getByTestId("state")).not.toContainText("Written offline");

    await alice.online();
    await expectSynced(alice.page);
    await expect(page.getByTestId("state")).toContainText("Written offline");
    await expect(page.getByTestId("connections")).toContainText("Alice");
    const root = join(test.info().config.rootDir, "..");
    const shots = process.env.UPDATE_SCREENSHOTS === "1" ? join(root, "docs", "screenshots") : join(root, "test-results", "screenshots");
    await page.screenshot({ path: join(shots, "demo-inspector.png"), fullPage: true });

    // Without the token the data routes refuse.
    const refused = await page.request.get(`${demo.server.url}/inspector/api/actors`);
    expect(refused.status()).toBe(401);
  } finally {
    await context.close();
  }
});

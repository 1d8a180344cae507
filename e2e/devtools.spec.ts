/**
 * The devtools panel (tandem/devtools) in the demo, behind its "Devtools" button: what it
 * shows while Alice calls actions (one confirmed, one rejected with its error), works
 * offline (queued actions, their predictions, an unconfirmed direct edit of the notes),
 * comes back (the flush, then everything confirmed), and in a second tab (a follower of the
 * leader tab). Screenshots go to test-results/screenshots/, or to docs/screenshots/devtools-*.png
 * (the README's) with UPDATE_SCREENSHOTS=1 — so a test run leaves the tracked images alone.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Locator, Page } from "@playwright/test";
import { addTodo, expect, expectSynced, status, test, typeInNotes } from "./fixtures.ts";

const SHOTS = process.env.UPDATE_SCREENSHOTS === "1" ? join("docs", "screenshots") : join("test-results", "screenshots");

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `devtools-${name}.png`) });
}

const panel = (page: Page): Locator => page.locator("#tandem-devtools");
const board = (page: Page): Locator => panel(page).locator('section.tdt-connection[data-name="board"]');
const field = (scope: Locator, name: string): Locator => scope.locator(`[data-field="${name}"]`);
const rows = (page: Page, state: string): Locator => board(page).locator(`tr.tdt-entry[data-status="${state}"]`);

test("the devtools panel follows actions, offline edits and a reconnect", async ({ openUser }) => {
  const alice = await openUser("Alice");
  const page = alice.page;

  // ---- opened by the button ------------------------------------------------------------
  await expect(panel(page)).toHaveCount(0);
  await page.locator("#devtools-toggle").click();
  await expect(panel(page)).toBeVisible();
  await expect(board(page)).toHaveAttribute("data-status", "synced");
  await expect(field(panel(page), "tab-role")).toContainText("leader");
  await expect(field(panel(page), "storage")).toContainText(/indexeddb · .* used/);
  await expect(board(page).locator(".tdt-state")).toContainText("todos");

  // ---- actions: one confirmed, one rejected with its error ------------------------------
  await addTodo(page, "Check the devtools");
  await expect(rows(page, "confirmed").filter({ hasText: "addTodo" })).toHaveCount(1);
  await addTodo(page, "x".repeat(141));
  await expect(rows(page, "rejected")).toHaveCount(1);
  await expect(rows(page, "rejected").locator(".tdt-entry-detail")).toHaveText(/^too_long: A todo has at most 140 characters$/);
  await expect(board(page).locator(".tdt-state")).toContainText('"Check the devtools"');
  await expectSynced(page);
  await shot(page, "online");

  // ---- offline: queued actions with predictions, an unconfirmed edit -------------------
  await alice.offline();
  await expect(board(page)).toHaveAttribute("data-status", "offline");
  await addTodo(page, "Written offline");
  await addTodo(page, "Also offline");
  await typeInNotes(page, "offline note");
  await expect(rows(page, "queued")).toHaveCount(2);
  await expect(field(board(page), "predictions")).toHaveText(/^addTodo#\d+, addTodo#\d+$/);
  await expect(field(board(page), "edits")).toHaveText(/^\d+ \(\d+(\.\d)? (B|KB)\)$/);
  await expect(board(page).locator(".tdt-state")).toContainText("offline note"); // the doc holds the edit
  await shot(page, "offline");

  // ---- back online: flushed, then all confirmed -----------------------------------------
  await alice.online();
  await expectSynced(page);
  await expect(board(page)).toHaveAttribute("data-status", "synced");
  await expect(rows(page, "queued")).toHaveCount(0);
  await expect(rows(page, "sent")).toHaveCount(0);
  await expect(rows(page, "confirmed")).toHaveCount(3);
  await expect(field(board(page), "predictions")).toHaveText("none");
  await expect(field(board(page), "edits")).toHaveText("none");
  await expect(field(board(page), "progress")).toHaveText("idle");
  await expect(status(page)).toHaveAttribute("data-progress", "");
  await shot(page, "reconnected");

  // ---- a second tab is a follower of this one -------------------------------------------
  const tab = await alice.newTab();
  await expectSynced(tab);
  await tab.locator("#devtools-toggle").click();
  await expect(field(panel(tab), "tab-role")).toContainText("follower");
  const leader = await field(panel(page), "tab-role").textContent();
  await expect(field(panel(tab), "leader")).toContainText(leader!.slice(0, 8));
  await expect(board(tab)).toHaveAttribute("data-status", "synced");
  await expect(board(tab).locator(".tdt-state")).toContainText("Written offline");
  await shot(tab, "follower");

  // ---- closed by the button, and by its own close button --------------------------------
  await page.locator("#devtools-toggle").click();
  await expect(panel(page)).toHaveCount(0);
  await tab.locator("#tandem-devtools .tdt-close").click();
  await expect(panel(tab)).toHaveCount(0);
  await expect(tab.locator("#devtools-toggle")).toHaveAttribute("aria-pressed", "false");
});

test("the badge shows an outbox flush's progress after offline work", async ({ openUser }) => {
  const alice = await openUser("Alice");
  const page = alice.page;
  await alice.offline();
  await expect(status(page)).toHaveAttribute("data-status", "offline");
  for (let i = 0; i < 30; i++) await addTodo(page, `offline ${i}`);
  await expect(status(page)).toHaveAttribute("data-pending", "30");
  // Record every progress the badge shows while the outbox flushes.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { progressSeen: string[] }).progressSeen = seen;
    const badge = document.getElementById("status")!;
    new MutationObserver(() => {
      const value = badge.getAttribute("data-progress") ?? "";
      if (value !== "" && seen.at(-1) !== value) seen.push(value);
    }).observe(badge, { attributes: true, attributeFilter: ["data-progress"] });
  });
  await alice.online();
  await expectSynced(page);
  const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
  const flush = seen.filter((each) => each.startsWith("flush:"));
  expect(flush.length).toBeGreaterThan(0);
  for (const each of flush) expect(each).toMatch(/^flush:\d+\/30$/);
  const done = flush.map((each) => Number(each.slice("flush:".length).split("/")[0]));
  expect(done).toEqual([...done].sort((a, b) => a - b)); // never goes back
  await expect(status(page)).toHaveAttribute("data-progress", "");
});

/**
 * The read-only viewer link (?mode=view → params.mode "view"): live updates, no editing —
 * neither through the UI (read-only editor, no add or delete) nor around it (the server
 * refuses actions, the replica refuses direct edits).
 */
import { addTodo, expect, expectSynced, notes, notesText, screenshot, test, toasts, todo, todoTexts, typeInNotes } from "./fixtures.ts";

test("the viewer sees live updates and cannot edit", async ({ openUser, demo, board }) => {
  const alice = await openUser("Alice", { serviceWorker: false });
  await typeInNotes(alice.page, "Release checklist");
  await addTodo(alice.page, "Tag the release");
  await expectSynced(alice.page);

  const carol = await openUser("Carol", { viewer: true, serviceWorker: false });
  const page = carol.page;
  await expect(page.locator("#viewer-banner")).toBeVisible();
  await expect(page.locator("#todo-form")).toHaveCount(0);
  await expect(page.locator(".todo-delete")).toHaveCount(0);
  await expect(notes(page)).toHaveAttribute("contenteditable", "false");
  await expect(todo(page, "Tag the release").locator(".todo-toggle")).toBeDisabled();
  await expect.poll(() => notesText(page)).toBe("Release checklist");
  await expect(alice.page.locator('#presence .member[data-name="Carol"] .member-role')).toHaveText("viewer");

  // live updates
  await typeInNotes(alice.page, "\n1. run the tests");
  await addTodo(alice.page, "Write the changelog");
  await todo(alice.page, "Tag the release").locator(".todo-toggle").check();
  await expect.poll(() => notesText(page)).toBe("Release checklist\n1. run the tests");
  await expect.poll(() => todoTexts(page)).toEqual(["Tag the release", "Write the changelog"]);
  await expect(todo(page, "Tag the release")).toHaveClass(/\bdone\b/);

  // typing does nothing
  await notes(page).click({ force: true });
  await page.keyboard.type("sneaky");
  await expect.poll(() => notesText(page)).toBe("Release checklist\n1. run the tests");

  // around the UI: the server refuses actions, the replica refuses direct edits
  await page.evaluate(() => {
    void window.tandemDemo!.conn.addTodo("sneaky todo").catch(() => undefined);
    void window.tandemDemo!.conn.toggleTodo(window.tandemDemo!.conn.state!.todos[0]!.id).catch(() => undefined);
  });
  await expect(toasts(page).filter({ hasText: "Viewers cannot add todos" })).toBeVisible();
  await expect(toasts(page).filter({ hasText: "Viewers cannot change todos" })).toBeVisible();
  await page.evaluate(() => {
    const text = window.tandemDemo!.conn.doc.getMap("state").get("notes") as { insert(index: number, text: string): void };
    text.insert(0, "sneaky ");
  });
  await expect(toasts(page).filter({ hasText: /read-only/ })).toBeVisible();
  await expect.poll(() => notesText(page)).toBe("Release checklist\n1. run the tests");
  await expect.poll(() => todoTexts(page)).toEqual(["Tag the release", "Write the changelog"]);
  await expect(todo(page, "Tag the release")).toHaveClass(/\bdone\b/);

  // and the editor still follows Alice after its doc was replaced
  await typeInNotes(alice.page, "\n2. publish");
  await expect.poll(() => notesText(page)).toBe("Release checklist\n1. run the tests\n2. publish");
  await screenshot(page, "viewer");

  const stored = await demo.server.client.board.getOrCreate(board).getTodos();
  expect(stored.map((t) => t.text)).toEqual(["Tag the release", "Write the changelog"]);
  await expect.poll(() => notesText(alice.page)).toBe("Release checklist\n1. run the tests\n2. publish");
});

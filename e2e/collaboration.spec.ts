/**
 * Two users (two browser contexts) on one board: notes typed in both editors merge, todos
 * added on both sides appear on both, presence shows who is here and where their cursor is.
 */
import { addTodo, expect, expectSynced, notesText, screenshot, test, todo, todoTexts, typeInNotes } from "./fixtures.ts";

test("two users edit the notes and the todos, and converge", async ({ openUser, demo, board }) => {
  const alice = await openUser("Alice");
  const bob = await openUser("Bob");

  // presence: each sees the other
  await expect(alice.page.locator('#presence .member[data-name="Bob"]')).toBeVisible();
  await expect(bob.page.locator('#presence .member[data-name="Alice"]')).toBeVisible();

  // notes: both type at once, in different places (typing at one spot at once interleaves by
  // design: a remote insert at your cursor moves it, so the rest of your word follows theirs)
  await typeInNotes(alice.page, "Agenda", { keys: true });
  await typeInNotes(alice.page, " for Monday");
  await expect.poll(() => notesText(bob.page)).toContain("Agenda for Monday");
  await Promise.all([typeInNotes(alice.page, "\n- ship the demo", { keys: true }), typeInNotes(bob.page, "- write the docs\n", { keys: true, at: "start" })]);
  for (const user of [alice, bob]) {
    await expect.poll(() => notesText(user.page)).toContain("ship the demo");
    await expect.poll(() => notesText(user.page)).toContain("write the docs");
  }
  await expect.poll(async () => (await notesText(alice.page)) === (await notesText(bob.page))).toBe(true);

  // Bob's cursor, with his name, in Alice's editor (awareness stamped by the server)
  await expect(alice.page.locator("#notes .cm-ySelectionCaret")).toHaveCount(1);
  await expect(alice.page.locator("#notes .cm-ySelectionInfo")).toHaveText("Bob");

  // todos: added on both sides
  await Promise.all([addTodo(alice.page, "Book the meeting room"), addTodo(bob.page, "Send the invites")]);
  await addTodo(alice.page, "Order coffee");
  for (const user of [alice, bob]) {
    await expect.poll(() => todoTexts(user.page).then((texts) => texts.sort())).toEqual(["Book the meeting room", "Order coffee", "Send the invites"]);
    await expectSynced(user.page);
  }
  expect(await todoTexts(alice.page)).toEqual(await todoTexts(bob.page));

  // Bob ticks Alice's todo; Alice sees it
  await todo(bob.page, "Book the meeting room").locator(".todo-toggle").check();
  await expect(todo(alice.page, "Book the meeting room")).toHaveClass(/\bdone\b/);
  await expect(todo(alice.page, "Book the meeting room").locator(".todo-author")).toHaveText("you");
  await expect(todo(bob.page, "Book the meeting room").locator(".todo-author")).toHaveText("Alice");

  // the server holds the same
  const stored = await demo.server.client.board.getOrCreate(board).getTodos();
  expect(stored.map((t) => t.text).sort()).toEqual(["Book the meeting room", "Order coffee", "Send the invites"]);
  expect(stored.find((t) => t.text === "Book the meeting room")?.done).toBe(true);

  await alice.page.locator("#todo-input").fill("Print the agenda");
  await screenshot(alice.page, "two-users-alice");
  await screenshot(bob.page, "two-users-bob");

  // Bob signs out: he leaves the presence list, and the sign-in form is back
  await bob.page.locator("#sign-out").click();
  await expect(bob.page.locator("#sign-in")).toBeVisible();
  await expect(alice.page.locator('#presence .member[data-name="Bob"]')).toHaveCount(0);
});

/**
 * Server rules win over predictions: a too-long todo and deleting someone else's todo show
 * at once (optimistic UI), then roll back when the server refuses, with a visible error.
 * Alice is kept offline while she acts so the optimistic state can be seen before the
 * server answers.
 */
import { addTodo, expect, expectSynced, screenshot, status, test, toasts, todo, todoTexts } from "./fixtures.ts";

test("a too-long todo shows at once, then rolls back with the server's error", async ({ openUser, demo, board }) => {
  const alice = await openUser("Alice", { serviceWorker: false });
  const long = `Remember ${"to remember ".repeat(12)}everything`; // > 140 characters
  expect(long.length).toBeGreaterThan(140);

  await alice.offline();
  await expect(status(alice.page)).toHaveAttribute("data-status", "offline");
  await alice.page.locator("#todo-input").fill(long);
  await expect(alice.page.locator(".counter")).toHaveClass(/\bover\b/);
  await alice.page.locator("#todo-input").press("Enter");
  await addTodo(alice.page, "A short one");
  await expect(todo(alice.page, long)).toHaveClass(/\bpending\b/);
  await expect.poll(() => todoTexts(alice.page)).toEqual([long, "A short one"]);
  await screenshot(alice.page, "rejected-too-long-optimistic");

  await alice.online();
  await expect(toasts(alice.page).filter({ hasText: "A todo has at most 140 characters" })).toBeVisible();
  await expect(toasts(alice.page).first()).toContainText("Not added");
  await expect.poll(() => todoTexts(alice.page)).toEqual(["A short one"]);
  await expectSynced(alice.page);
  await screenshot(alice.page, "rejected-too-long-rolled-back");

  const stored = await demo.server.client.board.getOrCreate(board).getTodos();
  expect(stored.map((t) => t.text)).toEqual(["A short one"]);
});

test("deleting another user's todo shows at once, then comes back with an error", async ({ openUser, demo, board }) => {
  const alice = await openUser("Alice", { serviceWorker: false });
  // Bob adds his todo through the server's inline client (as Bob), no browser needed
  await demo.server.client.board.getOrCreate(board, { auth: { name: "Bob", viewer: false } }).addTodo("Bob's todo");
  await expect.poll(() => todoTexts(alice.page)).toEqual(["Bob's todo"]);
  await addTodo(alice.page, "Alice's todo");
  await expect.poll(() => todoTexts(alice.page)).toEqual(["Bob's todo", "Alice's todo"]);
  await expect(todo(alice.page, "Bob's todo").locator(".todo-delete")).toHaveAttribute("title", /Only Bob may delete/);
  // Her todo is confirmed (a pending one cannot be deleted yet) before the network goes.
  await expect(todo(alice.page, "Alice's todo").locator(".todo-delete")).toBeEnabled();

  await alice.offline();
  await expect(status(alice.page)).toHaveAttribute("data-status", "offline");
  await todo(alice.page, "Bob's todo").locator(".todo-delete").click();
  await todo(alice.page, "Alice's todo").locator(".todo-delete").click();
  await expect.poll(() => todoTexts(alice.page)).toEqual([]); // both gone, optimistically
  await screenshot(alice.page, "rejected-delete-optimistic");

  await alice.online();
  await expect(toasts(alice.page).filter({ hasText: "Only the author may delete a todo" })).toBeVisible();
  await expect.poll(() => todoTexts(alice.page)).toEqual(["Bob's todo"]); // hers is deleted, Bob's is back
  await expectSynced(alice.page);
  await screenshot(alice.page, "rejected-delete-rolled-back");

  const stored = await demo.server.client.board.getOrCreate(board).getTodos();
  expect(stored.map((t) => t.text)).toEqual(["Bob's todo"]);
});

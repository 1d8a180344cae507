/**
 * Stateless HTTP calls from a real page (issue 12, item 10): `handle.someAction()` without
 * connect goes through the browser's fetch, which throws "Illegal invocation" when called
 * with a receiver other than the window.
 */
import { expect, test } from "./fixtures.ts";

test("a handle's action runs over HTTP from the page (no connect)", async ({ openUser, board }) => {
  const alice = await openUser("Alice", { serviceWorker: false });
  const result = await alice.page.evaluate(async (key) => {
    const { client } = window.tandemDemo!;
    const handle = client.board.get(key, { params: { name: "Alice" } });
    const todo = await handle.addTodo("added over HTTP");
    return { todo, todos: await handle.getTodos(), id: await handle.resolve() };
  }, board);
  expect(result.todo).toMatchObject({ text: "added over HTTP", author: "Alice", done: false });
  expect(result.todos.map((todo) => todo.text)).toEqual(["added over HTTP"]);
  expect(result.id).toMatch(/\S/);
  // the live connection of the page hears of it like of any other change
  await expect(alice.page.locator("#todo-list .todo-text")).toHaveText(["added over HTTP"]);
});

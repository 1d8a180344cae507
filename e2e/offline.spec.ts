/**
 * Offline first, as a user sees it: Alice loses the network (her proxy is cut, her context
 * is offline), keeps editing the notes and the todos, reloads the page — the service worker
 * serves the app, IndexedDB the board and her unsaved changes — then comes back. Bob worked
 * meanwhile. Both end with the same notes and todos, every action applied exactly once.
 */
import { addTodo, expect, expectSynced, notesText, outboxStored, screenshot, status, test, todo, todoTexts, typeInNotes } from "./fixtures.ts";

test("edits made offline survive a reload and sync once the network is back", async ({ openUser, demo, board }) => {
  const alice = await openUser("Alice");
  const bob = await openUser("Bob");

  await typeInNotes(alice.page, "Trip plan");
  await addTodo(alice.page, "Book the train");
  await expectSynced(alice.page);
  await expect(todo(bob.page, "Book the train")).toBeVisible();

  // ---- Alice goes offline -------------------------------------------------------------
  await alice.offline();
  await expect(status(alice.page)).toHaveAttribute("data-status", "offline");
  await expect(alice.page.locator('#presence .member[data-name="Bob"]')).toHaveCount(0); // others' presence is unknown offline

  await typeInNotes(alice.page, "\nwritten offline");
  await addTodo(alice.page, "Pack the bags");
  await addTodo(alice.page, "Water the plants");
  await todo(alice.page, "Book the train").locator(".todo-toggle").check();
  // predictions show at once, marked as not saved yet
  await expect(todo(alice.page, "Pack the bags")).toHaveClass(/\bpending\b/);
  await expect(todo(alice.page, "Book the train")).toHaveClass(/\bdone\b.*\bunsaved\b|\bunsaved\b.*\bdone\b/);
  await expect(alice.page.locator("#pending")).toHaveText(/^\d+ changes not yet saved$/);

  // Bob, online, works meanwhile
  await typeInNotes(bob.page, "\nBob was here");
  await addTodo(bob.page, "Buy sunscreen");
  await expectSynced(bob.page);
  await expect.poll(() => notesText(alice.page)).not.toContain("Bob was here");
  expect(await todoTexts(alice.page)).not.toContain("Buy sunscreen");

  await outboxStored(alice.page);
  await screenshot(alice.page, "offline-before-reload");

  // ---- reload while offline: the app shell from the service worker, the data from IndexedDB
  await alice.page.reload();
  await expect(alice.page.locator("#me-name")).toHaveText("Alice");
  await expect(status(alice.page)).toHaveAttribute("data-status", "offline");
  await expect.poll(() => notesText(alice.page)).toBe("Trip plan\nwritten offline");
  await expect.poll(() => todoTexts(alice.page)).toEqual(["Book the train", "Pack the bags", "Water the plants"]);
  await expect(todo(alice.page, "Book the train")).toHaveClass(/\bdone\b/);
  await expect(todo(alice.page, "Water the plants")).toHaveClass(/\bpending\b/);
  await expect(alice.page.locator("#pending")).toHaveText(/^\d+ changes not yet saved$/);
  expect(Number(await status(alice.page).getAttribute("data-pending"))).toBeGreaterThanOrEqual(3);
  await screenshot(alice.page, "offline-after-reload");

  // ---- back online --------------------------------------------------------------------
  await alice.online();
  await expectSynced(alice.page);
  await expectSynced(bob.page);
  await expect(alice.page.locator("#todo-list .todo.pending, #todo-list .todo.unsaved")).toHaveCount(0);

  const expected = ["Book the train", "Buy sunscreen", "Pack the bags", "Water the plants"];
  for (const user of [alice, bob]) {
    await expect.poll(() => todoTexts(user.page).then((texts) => [...texts].sort())).toEqual(expected);
    await expect(todo(user.page, "Book the train")).toHaveClass(/\bdone\b/);
    await expect.poll(() => notesText(user.page)).toContain("written offline");
    await expect.poll(() => notesText(user.page)).toContain("Bob was here");
  }
  await expect.poll(async () => (await notesText(alice.page)) === (await notesText(bob.page))).toBe(true);
  expect(await todoTexts(alice.page)).toEqual(await todoTexts(bob.page));
  await expect(alice.page.locator('#presence .member[data-name="Bob"]')).toBeVisible();

  // exactly once: every todo once on the server, the offline toggle applied once (still done)
  const stored = await demo.server.client.board.getOrCreate(board).getTodos();
  expect(stored.map((t) => t.text).sort()).toEqual(expected);
  expect(stored.filter((t) => t.done).map((t) => t.text)).toEqual(["Book the train"]);
  await expect(alice.page.locator("#toasts .toast")).toHaveCount(0);
  await screenshot(alice.page, "offline-reconnected");
});

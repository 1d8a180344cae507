/**
 * Several tabs of one user (one browser context, one origin): one leader tab holds the
 * only WebSocket and flushes the outbox; the others talk to it over BroadcastChannel; when
 * the leader closes, another tab takes over (DESIGN §4 "Multi-tab").
 */
import { addTodo, expect, expectSynced, notesText, screenshot, test, todoTexts, typeInNotes } from "./fixtures.ts";

test("three tabs share one WebSocket; a follower's action reaches the server; another tab takes over from a closed leader", async ({ openUser, demo, board }) => {
  const alice = await openUser("Alice", { serviceWorker: false });
  const origin = alice.proxy.url;
  const leader = alice.page; // the first tab takes the lock
  const second = await alice.newTab();
  const third = await alice.newTab();
  for (const tab of [leader, second, third]) await expectSynced(tab);

  // one WebSocket for the three tabs
  await expect.poll(() => demo.sockets.openFrom(origin)).toBe(1);

  // another user sees Alice once, however many tabs she has open
  const bob = await openUser("Bob", { serviceWorker: false });
  await expect(bob.page.locator('#presence .member[data-name="Alice"]')).toHaveCount(1);
  for (const tab of [leader, second, third]) await expect(tab.locator('#presence .member[data-name="Bob"]')).toHaveCount(1);

  // notes typed in a follower tab reach the leader tab and the other user
  await typeInNotes(third, "typed in tab three");
  await expect.poll(() => notesText(leader)).toContain("typed in tab three");
  await expect.poll(() => notesText(bob.page)).toContain("typed in tab three");

  // an action in a follower tab reaches the server, and every tab sees it
  await addTodo(second, "From a follower tab");
  await expect.poll(async () => (await demo.server.client.board.getOrCreate(board).getTodos()).map((t) => t.text)).toEqual(["From a follower tab"]);
  for (const tab of [leader, second, third]) await expect.poll(() => todoTexts(tab)).toEqual(["From a follower tab"]);
  await expectSynced(second);
  await screenshot(second, "multi-tab-follower");

  // the leader closes: another tab takes over (within a second, give or take a reconnect)
  await leader.close();
  await expect.poll(() => demo.sockets.openFrom(origin), { timeout: 5_000 }).toBe(1);
  await addTodo(third, "After the leader left");
  await expect.poll(async () => (await demo.server.client.board.getOrCreate(board).getTodos()).map((t) => t.text)).toEqual(["From a follower tab", "After the leader left"]);
  for (const tab of [second, third]) {
    await expect.poll(() => todoTexts(tab)).toEqual(["From a follower tab", "After the leader left"]);
    await expectSynced(tab);
  }
  expect(demo.sockets.openFrom(origin)).toBe(1);
});

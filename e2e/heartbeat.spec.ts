/**
 * A link that dies silently (issue 12, item 11), in a real browser: Alice's proxy stops
 * forwarding but keeps her WebSocket open. Her page notices within the client's heartbeat
 * (default: a ping after 5 s of silence, 5 s for the answer), says "offline" with her todo
 * unsaved, and once the link is back reconnects and sends it: it is added exactly once.
 */
import { addTodo, expect, expectSynced, status, test, todo, todoTexts } from "./fixtures.ts";

test("a silently dead link goes offline within the heartbeat; the pending todo is added once when it is back", async ({ openUser, demo, board }) => {
  const alice = await openUser("Alice", { serviceWorker: false });
  await addTodo(alice.page, "Before the outage");
  await expectSynced(alice.page);

  alice.proxy.blackhole();
  await addTodo(alice.page, "During the outage");
  await expect(todo(alice.page, "During the outage")).toHaveClass(/\bpending\b/);
  await expect(status(alice.page)).toHaveAttribute("data-status", "offline", { timeout: 20_000 });
  await expect(status(alice.page)).toHaveAttribute("data-pending", "1");

  alice.proxy.restore();
  await expectSynced(alice.page, 20_000);
  expect(await todoTexts(alice.page)).toEqual(["Before the outage", "During the outage"]);
  const onServer = await demo.server.client.board.get(board).getTodos();
  expect(onServer.map((t) => t.text)).toEqual(["Before the outage", "During the outage"]);
});

/** The server-wide send budget: counts only sockets that are behind, and terminates the largest first. */
import { expect, test } from "vitest";
import { type BudgetedSocket, SendBudget } from "./send-budget.ts";

const KB = 1024;

class FakeSocket implements BudgetedSocket {
  terminated: string | null = null;
  private drained: (() => void)[] = [];
  constructor(public bufferedAmount: number) {}
  onceDrained(listener: () => void): void {
    this.drained.push(listener);
  }
  drain(): void {
    this.bufferedAmount = 0;
    for (const listener of this.drained.splice(0)) listener();
  }
  get listeners(): number {
    return this.drained.length;
  }
  terminate(reason: string): void {
    this.terminated = reason;
  }
}

test("sockets with a little queued are not counted; behind ones are, until they drain", () => {
  const budget = new SendBudget(10_000 * KB);
  const healthy = new FakeSocket(10 * KB);
  budget.note(healthy);
  expect(budget.socketsBehind).toBe(0);
  const behind = new FakeSocket(500 * KB);
  budget.note(behind);
  budget.note(behind);
  expect(budget.queuedBytes).toBe(500 * KB);
  expect(behind.listeners).toBe(1); // one drain listener, however many sends
  behind.bufferedAmount = 800 * KB;
  budget.note(behind);
  expect(budget.queuedBytes).toBe(800 * KB);
  behind.drain();
  expect(budget.queuedBytes).toBe(0);
  expect(budget.socketsBehind).toBe(0);
});

test("over the budget the sockets with the most queued go first, until the total fits", () => {
  const budget = new SendBudget(1000 * KB);
  const small = new FakeSocket(200 * KB);
  const medium = new FakeSocket(400 * KB);
  const large = new FakeSocket(700 * KB);
  budget.note(small);
  budget.note(medium);
  expect(budget.queuedBytes).toBe(600 * KB);
  budget.note(large); // 1300 KB: the largest goes, 600 KB is left
  expect([small.terminated, medium.terminated, large.terminated !== null]).toEqual([null, null, true]);
  expect(budget.queuedBytes).toBe(600 * KB);
  // A count gone stale (the socket drained without a drain event) is recounted before anyone is terminated.
  medium.bufferedAmount = 0;
  const next = new FakeSocket(700 * KB);
  budget.note(next);
  expect([small.terminated, medium.terminated, next.terminated]).toEqual([null, null, null]);
  expect(budget.queuedBytes).toBe(900 * KB);
});

test("a closed socket is forgotten", () => {
  const budget = new SendBudget(1000 * KB);
  const socket = new FakeSocket(300 * KB);
  budget.note(socket);
  budget.forget(socket);
  expect(budget.queuedBytes).toBe(0);
  socket.drain(); // a drain after the close changes nothing
  expect(budget.queuedBytes).toBe(0);
});

/**
 * The server-wide send budget: counts only sockets that are behind, and over the budget
 * terminates the stalled ones (behind without draining for STALLED_AFTER_MS), largest first.
 */
import { afterEach, expect, test, vi } from "vitest";
import { type BudgetedSocket, SendBudget, STALLED_AFTER_MS } from "./send-budget.ts";

const KB = 1024;

class FakeSocket implements BudgetedSocket {
  terminated: string | null = null;
  private drained: (() => void)[] = [];
  constructor(public bufferedAmount: number) {}
  onceDrained(listener: () => void): void {
    this.drained.push(listener);
  }
  /** Its TCP socket emptied once; `left` is what was queued again meanwhile. */
  drain(left = 0): void {
    this.bufferedAmount = left;
    for (const listener of this.drained.splice(0)) listener();
  }
  get listeners(): number {
    return this.drained.length;
  }
  terminate(reason: string): void {
    this.terminated = reason;
  }
}

let clock = 0;
const budgetOf = (limitKb: number) => new SendBudget(limitKb * KB, () => clock);

afterEach(() => {
  vi.useRealTimers();
});

test("sockets with a little queued are not counted; behind ones are, until they drain", () => {
  const budget = budgetOf(10_000);
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

test("over the budget the stalled sockets with the most queued go first, until the total fits", () => {
  const budget = budgetOf(1000);
  const small = new FakeSocket(200 * KB);
  const medium = new FakeSocket(400 * KB);
  const large = new FakeSocket(700 * KB);
  budget.note(small);
  budget.note(medium);
  budget.note(large);
  clock += STALLED_AFTER_MS;
  budget.note(large); // 1300 KB, all stalled: the largest goes, 600 KB is left
  expect([small.terminated, medium.terminated, large.terminated !== null]).toEqual([null, null, true]);
  expect(budget.queuedBytes).toBe(600 * KB);
  // A count gone stale (the socket drained without a drain event) is recounted before anyone is terminated.
  medium.bufferedAmount = 0;
  const next = new FakeSocket(700 * KB);
  budget.note(next);
  expect([small.terminated, medium.terminated, next.terminated]).toEqual([null, null, null]);
  expect(budget.queuedBytes).toBe(900 * KB);
});

test("a busy socket that keeps draining is not terminated by the budget; a stalled one is, even with less queued", () => {
  const budget = budgetOf(1000);
  const stalled = new FakeSocket(400 * KB);
  const busy = new FakeSocket(800 * KB);
  budget.note(stalled);
  budget.note(busy);
  for (let i = 0; i < 5; i++) {
    clock += STALLED_AFTER_MS / 2;
    busy.drain(800 * KB); // emptied once, and queued to again
    budget.note(busy);
  }
  expect(busy.terminated).toBeNull();
  expect(stalled.terminated).not.toBeNull();
  expect(budget.queuedBytes).toBe(800 * KB);
});

test("over the budget with nobody stalled yet, the budget looks again once someone is", () => {
  vi.useFakeTimers();
  const budget = budgetOf(1000);
  const a = new FakeSocket(600 * KB);
  const b = new FakeSocket(700 * KB);
  budget.note(a);
  budget.note(b); // over, but neither is stalled: nothing happens now
  expect([a.terminated, b.terminated]).toEqual([null, null]);
  clock += STALLED_AFTER_MS + 1;
  vi.advanceTimersByTime(STALLED_AFTER_MS + 2);
  expect([a.terminated, b.terminated !== null]).toEqual([null, true]);
  expect(budget.queuedBytes).toBe(600 * KB);
});

test("a closed socket is forgotten", () => {
  const budget = budgetOf(1000);
  const socket = new FakeSocket(300 * KB);
  budget.note(socket);
  budget.forget(socket);
  expect(budget.queuedBytes).toBe(0);
  socket.drain(); // a drain after the close changes nothing
  expect(budget.queuedBytes).toBe(0);
});

test("over the hard ceiling the sockets with the most queued go, stalled or not", () => {
  const budget = budgetOf(1000);
  const fresh = [new FakeSocket(900 * KB), new FakeSocket(800 * KB), new FakeSocket(700 * KB)];
  for (const socket of fresh) budget.note(socket); // 2400 KB, nobody stalled: over twice the budget
  expect(fresh.map((socket) => socket.terminated !== null)).toEqual([true, false, false]);
  expect(budget.queuedBytes).toBe(1500 * KB);
});

/**
 * Work deferred to the end of the event-loop turn, in one `setImmediate` shared by the whole
 * server: first the deferred tasks (the fan-outs' checks and merges of held updates, the
 * presence relays), then the sockets corked during the turn are written out. So what a turn
 * sends to a socket leaves in one write, in the order it was sent.
 *
 * Nothing here may throw out of the event loop (guard.ts): each task and each cork release
 * runs on its own, and what one throws goes to its owner's `onError` (which logs it and
 * closes that actor's channels or that socket). The other tasks and releases of the turn
 * still run.
 */
import { runGuarded } from "./guard.ts";

/** A socket's queue, written out at the turn's end; `fail` hears what `release` threw. */
export interface Release {
  release(): void;
  fail(error: unknown): void;
}

interface Task {
  readonly run: () => void;
  readonly onError: (error: unknown) => void;
}

let tasks: Task[] = [];
let corked: Release[] = [];
let scheduled = false;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(endTurn);
}

function endTurn(): void {
  scheduled = false;
  // A task may defer another (a flush that sends, and so corks): run until none is left.
  // Bounded: a task that defers itself again and again is sent on to the next turn.
  for (let round = 0; tasks.length > 0 && round < MAX_ROUNDS; round++) {
    const list = tasks;
    tasks = [];
    for (const task of list) runGuarded(task.run, task.onError);
  }
  const list = corked;
  corked = [];
  for (const cork of list) runGuarded(() => cork.release(), (error) => cork.fail(error));
  if (tasks.length > 0 || corked.length > 0) schedule();
}

/** Rounds of deferred tasks run in one turn's end before the rest waits for the next. */
const MAX_ROUNDS = 1000;

/** Runs `task` at the end of this turn, before corked sockets are written out; `onError` gets what it throws. */
export function atTurnEnd(task: () => void, onError: (error: unknown) => void): void {
  tasks.push({ run: task, onError });
  schedule();
}

/** Releases `cork` at the end of this turn, after the deferred tasks. */
export function releaseAtTurnEnd(cork: Release): void {
  corked.push(cork);
  schedule();
}

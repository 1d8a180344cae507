/**
 * Work deferred to the end of the event-loop turn, in one `setImmediate` shared by the whole
 * server: first the deferred tasks (the fan-outs' checks and merges of held updates, the
 * presence relays), then the sockets corked during the turn are written out. So what a turn
 * sends to a socket leaves in one write, in the order it was sent.
 */
type Release = { release(): void };

let tasks: (() => void)[] = [];
let corked: Release[] = [];
let scheduled = false;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(endTurn);
}

function endTurn(): void {
  scheduled = false;
  try {
    // A task may defer another (a flush that sends, and so corks): run until none is left.
    while (tasks.length > 0) {
      const list = tasks;
      tasks = [];
      for (const task of list) task();
    }
  } finally {
    const list = corked;
    corked = [];
    for (const cork of list) cork.release();
    if (tasks.length > 0 || corked.length > 0) schedule(); // a task threw: the rest next turn
  }
}

/** Runs `task` at the end of this turn, before corked sockets are written out. */
export function atTurnEnd(task: () => void): void {
  tasks.push(task);
  schedule();
}

/** Releases `cork` at the end of this turn, after the deferred tasks. */
export function releaseAtTurnEnd(cork: Release): void {
  corked.push(cork);
  schedule();
}

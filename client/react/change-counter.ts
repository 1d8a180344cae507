/**
 * A counter per source (a connection, an awareness) and topic, bumped by the source's own
 * events, so that a hook's snapshot is recomputed only after something changed
 * (useSyncExternalStore calls getSnapshot on every render, and twice in development). The
 * listener is registered on first use, before anything is computed from the source, and
 * lives as long as the source (a connection drops its listeners when disposed, an awareness
 * when destroyed).
 */

const counters = new WeakMap<object, Map<string, { value: number }>>();

/**
 * How many times `topic` of `source` changed since counting started; the first call starts
 * counting, with `listen(bump)` registering what bumps it.
 */
export function changeCount(source: object, topic: string, listen: (bump: () => void) => void): number {
  let topics = counters.get(source);
  if (topics === undefined) counters.set(source, (topics = new Map()));
  let counter = topics.get(topic);
  if (counter === undefined) {
    const started = { value: 0 };
    topics.set(topic, (counter = started));
    listen(() => void started.value++);
  }
  return counter.value;
}

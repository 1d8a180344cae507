/**
 * Callbacks that run with no caller above them (at a turn's end, on a timer, on a socket
 * event) must never throw out of the event loop: one bad channel would kill the process and
 * every other actor with it. `runGuarded` runs such a callback and hands what it throws to
 * its owner (which logs it and closes its channel or socket); without an owner's handler, or
 * if that handler throws too, the error is written to stderr and dropped.
 */
export function runGuarded(run: () => void, onError: (error: unknown) => void = lastResort): void {
  try {
    run();
  } catch (error) {
    handOver(error, onError);
  }
}

/**
 * `listener`, guarded as by runGuarded, for an event that fires often (a socket's messages):
 * the listener itself catches, so a call allocates no closures and takes no extra hop.
 */
export function guarded<A extends unknown[]>(listener: (...args: A) => void, onError: (error: unknown) => void): (...args: A) => void {
  return (...args: A): void => {
    try {
      listener(...args);
    } catch (error) {
      handOver(error, onError);
    }
  };
}

function handOver(error: unknown, onError: (error: unknown) => void): void {
  try {
    onError(error);
  } catch (handlerError) {
    lastResort(handlerError);
    lastResort(error);
  }
}

function lastResort(error: unknown): void {
  try {
    process.stderr.write(`tandem: unhandled error in a guarded callback: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  } catch {
    // Nothing left to tell: stderr itself is gone.
  }
}

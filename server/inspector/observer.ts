/**
 * What the runtime tells an observer (the inspector and /metrics) as it works: one object
 * per live actor, got once when the instance is made, whose methods take plain numbers and
 * strings that already exist — nothing is allocated per action on the hot path. Without an
 * inspector the runtime holds null and calls nothing.
 *
 * This file imports nothing, so that the runtime below may depend on it without a cycle.
 */

/** The label the pipeline gives a direct edit (an action's label is its name). */
export const EDIT_LABEL = "(edit)";

/** What one live actor reports. */
export interface ObservedActor {
  /**
   * A task labelled by its caller (an action's name, or EDIT_LABEL) finished: `startedAt` is
   * `performance.now()` when it was asked for (the latency is the caller's: queue, run and
   * durable gate); `error` is null when it succeeded.
   */
  task(label: string, connId: string, startedAt: number, error: unknown): void;
  /** A commit was handed to the driver at `startedAt` (performance.now()) and is durable now (or failed). */
  appended(startedAt: number, failed: boolean): void;
  /** An event went to `targets` connections. */
  event(name: string, targets: number): void;
}

/** Counters of the network (plain numbers, bumped in place). */
export interface NetworkCounters {
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
}

/** The server-wide observer: hands each new instance its ObservedActor. */
export interface ActorObserver {
  actor(name: string, id: string): ObservedActor;
  readonly network: NetworkCounters;
  /** A socket got an error frame for one of its frames (malformed, rate limited, unknown channel…), by code. */
  refused(code: string): void;
}

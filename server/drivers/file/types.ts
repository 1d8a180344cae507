/**
 * Options and observable counters of the file driver, shared by its modules.
 */

/** Where the driver reports what it repaired (pino's shape: fastify's logger fits). */
export interface FileDriverLogger {
  warn(obj: object, msg?: string): void;
}

/** Counters since the directory was opened in this process (for tests, metrics, the bench). */
export interface FileDriverStats {
  /** fsync/fdatasync calls on files and directories. */
  fsyncs: number;
  /** Log frames written: one write + one fsync each, however many commits it holds. */
  frames: number;
  /** Commits made durable by `create` and `append`. */
  commits: number;
  compactions: number;
  /** Torn or corrupt log tails dropped by recovery. */
  tornTails: number;
}

/** Named points of compaction, in order (see actor-files.ts). */
export type CompactionStep = "snapshot-written" | "log-created" | "renamed" | "dir-synced";

/**
 * @internal For crash-point tests only: called at each step of a compaction; throwing there
 * stops it as a crash would (nothing after the step runs, nothing is cleaned up).
 */
export interface FileDriverTestHooks {
  compactionStep?(step: CompactionStep, id: string): void | Promise<void>;
  /** Size past which the shared journal is checkpointed (journal.ts; default 8 MiB). */
  journalCheckpointBytes?: number;
}

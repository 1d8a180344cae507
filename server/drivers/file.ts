/**
 * `fileDriver({ dir })`: the embedded default driver (its format: server/drivers/file/format.ts). Each actor is a directory
 * with an append-only, checksummed log of commits over an optional snapshot; appends are
 * fsync'ed before they resolve, with group commit; compaction swaps generations of files
 * atomically; recovery drops a torn log tail and reports it. Layout and crash reasoning:
 * file/format.ts (bytes), file/actor-files.ts (one actor's writes), file/open-actor.ts
 * (recovery), file/op-queue.ts (ordering, group commit), file/store.ts (the directory),
 * file/alarm-index.ts (alarms), file/lease-file.ts (fencing tokens).
 *
 * Fencing covers every driver object of this process on the same directory; a second
 * process is refused by the directory's LOCK file (file/dir-lock.ts).
 * @public
 */
import { ActorStopped, InvalidArguments } from "../../shared/errors.ts";
import { consoleLogger } from "../log.ts";
import type { ActorMeta, Alarm, Commit, Driver, Lease, Snapshot, StoredActor } from "./driver.ts";
import { type Store, closeStore, openStore } from "./file/store.ts";
import type { FileDriverLogger, FileDriverStats, FileDriverTestHooks } from "./file/types.ts";

export type { CompactionStep, FileDriverLogger, FileDriverStats, FileDriverTestHooks } from "./file/types.ts";

export interface FileDriverOptions {
  /** The data directory (created when missing). One process per directory. */
  dir: string;
  /** Where recovery reports what it dropped or repaired. Default: warnings as JSON on stderr. */
  log?: FileDriverLogger;
  /** @internal Crash-point hooks for tests; never set in production. */
  testHooks?: FileDriverTestHooks;
  // Driver objects open on the same directory share it: the first one's `log` and
  // `testHooks` serve them all until the last one closes.
}

export interface FileDriver extends Driver {
  readonly dir: string;
  /** Counters of the directory in this process (shared by driver objects on the same dir). */
  readonly stats: Readonly<FileDriverStats>;
  /** Fencing tokens held in memory for the directory (for tests: lookups of missing actors must not leave any). */
  readonly tokensHeld: number;
}

/** Ids become file names (hex of their UTF-8 bytes): keep them well under NAME_MAX. */
const MAX_ID_BYTES = 120;

function checkId(id: unknown): string {
  if (typeof id !== "string" || id === "" || Buffer.byteLength(id) > MAX_ID_BYTES || Buffer.from(id).toString() !== id) {
    throw new InvalidArguments(`An actor id must be a non-empty, well-formed string of at most ${MAX_ID_BYTES} UTF-8 bytes`);
  }
  return id;
}

const noop = () => undefined;

export function fileDriver(options: FileDriverOptions): FileDriver {
  if (typeof options?.dir !== "string" || options.dir === "") throw new InvalidArguments("fileDriver() needs { dir: string }");
  const log = options.log ?? consoleLogger("warn").child({ driver: "file" });
  const opening = openStore(options.dir, log, options.testHooks);
  let store: Store | null = null;
  opening.then((opened) => (store = opened), noop);
  const inflight = new Set<Promise<void>>();
  let closing: Promise<void> | null = null;

  /**
   * Every operation: refused after close, tracked so that close waits for it, and handed to
   * the store synchronously once it is open (so an append copies its commit at the call).
   */
  function run<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    if (closing !== null) return Promise.reject(new ActorStopped(`The file driver on ${options.dir} is closed`));
    let result: Promise<T>;
    if (store === null) result = opening.then(fn);
    else {
      try {
        result = fn(store);
      } catch (error) {
        result = Promise.reject(error);
      }
    }
    const settled = result.then(noop, noop);
    inflight.add(settled);
    void settled.then(() => inflight.delete(settled));
    return result;
  }

  return {
    name: "file",
    dir: options.dir,
    get tokensHeld(): number {
      return store?.tokens.size ?? 0;
    },
    get stats(): Readonly<FileDriverStats> {
      return store?.stats ?? { fsyncs: 0, frames: 0, commits: 0, compactions: 0, tornTails: 0 };
    },
    acquire(id: string): Promise<Lease> {
      return run((s) => s.actor(checkId(id)).acquire());
    },
    release(lease: Lease): Promise<void> {
      return run((s) => s.actor(checkId(lease.id)).release(lease));
    },
    meta(id: string): Promise<ActorMeta | null> {
      return run((s) => s.meta(checkId(id)));
    },
    load(id: string, lease: Lease): Promise<StoredActor | null> {
      return run((s) => s.actor(checkId(id)).load(lease));
    },
    create(meta: ActorMeta, first: Commit, lease: Lease): Promise<void> {
      return run((s) => s.actor(checkId(meta.id)).create(meta, first, lease));
    },
    append(id: string, commit: Commit, lease: Lease): Promise<void> {
      return run((s) => s.actor(checkId(id)).append(commit, lease));
    },
    compact(id: string, snapshot: Snapshot, lease: Lease): Promise<void> {
      return run((s) => s.actor(checkId(id)).compact(snapshot, lease));
    },
    alarms(): Promise<Alarm[]> {
      return run((s) => s.listAlarms());
    },
    close(): Promise<void> {
      closing ??= (async () => {
        while (inflight.size > 0) await Promise.all([...inflight]);
        const opened = await opening.catch(() => null);
        if (opened !== null) await closeStore(opened);
      })();
      return closing;
    },
  };
}

/**
 * One data directory as this process sees it, shared by every driver object opened on it
 * (a restarted server while the old one still holds its handles): one table of fencing
 * tokens and one queue per actor, so a stale driver object is fenced off exactly like a
 * stale owner. Keyed by the directory's real path; closed when the last driver closes.
 *
 *   <dir>/actors/<hex id>/   one actor's files (actor-files.ts)
 *   <dir>/alarms/<hex id>    the alarm index (alarm-index.ts)
 *   <dir>/tmp/               actors being created; emptied when the directory is opened
 *   <dir>/LOCK               the process that has the directory open (dir-lock.ts)
 *
 * Only one process may open a directory: fencing between processes is the Redis driver's.
 */
import { mkdir, readdir, realpath, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ActorMeta, Alarm } from "../driver.ts";
import { ActorFiles, type StoreHost } from "./actor-files.ts";
import { AlarmIndex } from "./alarm-index.ts";
import { Journal } from "./journal.ts";
import { lockDir } from "./dir-lock.ts";
import { syncDir } from "./fs-util.ts";
import { actorExists } from "./open-actor.ts";
import type { FileDriverLogger, FileDriverStats, FileDriverTestHooks } from "./types.ts";

export class Store implements StoreHost {
  readonly actorsDir: string;
  readonly tmpDir: string;
  readonly alarms: AlarmIndex;
  readonly stats: FileDriverStats = { fsyncs: 0, frames: 0, commits: 0, compactions: 0, tornTails: 0 };
  readonly tokens = new Map<string, number>();
  tokenFloor = 0;
  readonly leaseWrites = new Map<string, Promise<void>>();
  readonly ready: Promise<void>;
  refs = 0;
  private opened: Journal | null = null;
  private readonly files = new Map<string, ActorFiles>();
  private unlock: (() => Promise<void>) | null = null;

  constructor(
    readonly root: string,
    readonly log: FileDriverLogger,
    readonly hooks: FileDriverTestHooks | undefined,
  ) {
    this.actorsDir = join(root, "actors");
    this.tmpDir = join(root, "tmp");
    this.alarms = new AlarmIndex(join(root, "alarms"), this.stats);
    this.ready = this.init();
    this.ready.catch(() => undefined); // reported to whoever opens the store
  }

  private async init(): Promise<void> {
    this.unlock = await lockDir(this.root);
    await Promise.all([this.actorsDir, this.tmpDir, this.alarms.dir].map((path) => mkdir(path, { recursive: true })));
    // Creates that a crash interrupted: never renamed into actors/, so never visible.
    for (const name of await readdir(this.tmpDir)) await rm(join(this.tmpDir, name), { recursive: true, force: true });
    await syncDir(this.root, this.stats);
    // Before any actor is read: what the journal holds goes back into the logs.
    this.opened = await Journal.open(this.root, this.actorsDir, this.stats, this.log, this.hooks?.journalCheckpointBytes);
  }

  get journal(): Journal {
    if (this.opened === null) throw new Error("The file driver's directory is not open yet");
    return this.opened;
  }

  /** The files of an actor, with the queue its operations go through. */
  actor(id: string): ActorFiles {
    let files = this.files.get(id);
    if (files === undefined) {
      files = new ActorFiles(this, id, hexId(id));
      this.files.set(id, files);
    }
    return files;
  }

  forget(files: ActorFiles): void {
    if (this.files.get(files.id) === files) this.files.delete(files.id);
  }

  meta(id: string): Promise<ActorMeta | null> {
    return (this.files.get(id) ?? new ActorFiles(this, id, hexId(id))).readMeta();
  }

  async listAlarms(): Promise<Alarm[]> {
    // Index updates that follow an acknowledged commit finish first, so that the answer
    // reflects every write that has resolved.
    await Promise.all([...this.files.values()].map((files) => files.barrier()));
    const out: Alarm[] = [];
    for (const { hex, alarm } of await this.alarms.list()) {
      const id = Buffer.from(hex, "hex").toString("utf8");
      if (!(await actorExists(join(this.actorsDir, hex)))) {
        // Left by a create that crashed before its rename (unless one is running right now).
        if (!this.files.has(id)) await this.alarms.remove(hex).catch(() => undefined);
        continue;
      }
      if (alarm !== null && alarm.id === id) {
        out.push(alarm);
        continue;
      }
      // A damaged entry: wake the actor now rather than risk missing its schedule.
      try {
        const meta = await this.meta(id);
        if (meta !== null) out.push({ id, name: meta.name, key: [...meta.key], at: 0 });
      } catch (error) {
        this.log.warn({ actorId: id, err: error }, "file driver: an alarm entry and its actor's meta are unreadable");
      }
    }
    return out;
  }

  async close(): Promise<void> {
    const closed = await Promise.allSettled([...this.files.values()].map((files) => files.close()));
    this.files.clear();
    await Promise.allSettled(this.leaseWrites.values()); // of actors whose files went idle
    await this.opened?.close(closed.every((result) => result.status === "fulfilled"));
    await this.unlock?.();
  }
}

/** File names of actors: the id's UTF-8 bytes in lowercase hex (safe on case-insensitive disks). */
export function hexId(id: string): string {
  return Buffer.from(id, "utf8").toString("hex");
}

const stores = new Map<string, Store>();

/**
 * The store of `dir` in this process, opened (and created on disk) if need be. Fails with a
 * message naming the directory when it cannot be used: not a directory, not writable (its
 * LOCK file is the first write), or locked by another running process.
 */
export async function openStore(dir: string, log: FileDriverLogger, hooks: FileDriverTestHooks | undefined): Promise<Store> {
  try {
    return await open(dir, log, hooks);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`fileDriver: the data directory ${dir} cannot be used: ${reason}`, { cause: error });
  }
}

async function open(dir: string, log: FileDriverLogger, hooks: FileDriverTestHooks | undefined): Promise<Store> {
  await mkdir(dir, { recursive: true });
  const root = await realpath(dir);
  let store = stores.get(root);
  if (store === undefined) {
    store = new Store(root, log, hooks);
    stores.set(root, store);
  }
  store.refs++;
  try {
    await store.ready;
  } catch (error) {
    await closeStore(store);
    throw error;
  }
  return store;
}

/** One driver object is done with the store; the last one closes it. */
export async function closeStore(store: Store): Promise<void> {
  store.refs--;
  if (store.refs > 0) return;
  if (stores.get(store.root) === store) stores.delete(store.root);
  await store.close();
}

/**
 * One actor's files and the operations on them, all run through the actor's queue
 * (op-queue.ts):
 *
 *   actors/<hex id>/meta      header + frame(meta)              written once, by create
 *                   lease     the fencing token                 lease-file.ts
 *                   log.<g>   header + frames of commit batches  the commits since snapshot g
 *                   snap.<g>  header + frame(snapshot)          g ≥ 1; generation 0 has none
 *
 * - create: every file is written and fsync'ed in a temp directory that is then renamed to
 *   `actors/<hex id>` — atomic, and the rename fails if the actor exists (in this process or
 *   any earlier one). The files of a generation are written in generation.ts.
 * - append: appends queue while the previous write+fsync runs; the next write carries all of
 *   them as one frame and one fsync covers them (group commit). Each resolves after that fsync.
 * - compact g → g+1: write `snap.<g+1>.tmp` and fsync; create `log.<g+1>` (header only) and
 *   fsync; rename the snapshot into place (the commit point); fsync the directory; delete the
 *   old generation. A crash before the rename leaves generation g whole, after it g+1 whole
 *   (open-actor.ts picks the generation and removes the other one's files). The alarm index
 *   entry is kept in step by alarm-entry.ts.
 * - fencing: each operation checks its lease against the newest token when it runs, and
 *   operations run one at a time, so a write that passed the check is on disk before a new
 *   owner's load starts, and every later write of the old owner is refused. The new token
 *   is written to the lease file (fsync'ed) while the load reads: every write carrying it
 *   waits for that, and so does a release (a token that did not reach the disk stays in
 *   memory, so the next one still outranks it).
 * - opening reads without fsyncing the directory (open-actor.ts); that fsync runs meanwhile
 *   and every write waits for it, so nothing is acknowledged on a name that is not durable.
 */
import { type FileHandle, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { ActorAlreadyExists, StaleLease, StorageCorrupt } from "../../../shared/errors.ts";
import type { ActorMeta, Commit, Lease, Snapshot, StoredActor } from "../driver.ts";
import { foldCommits } from "../fold.ts";
import { AlarmEntry, earliest } from "./alarm-entry.ts";
import { type AlarmIndex, movesEarlier } from "./alarm-index.ts";
import type { Journal, JournaledLog } from "./journal.ts";
import { encodeBatch, encodeCommit, encodeSnapshot } from "./codec.ts";
import { FILE_HEADER_SIZE, encodeFrame } from "./format.ts";
import { datasync, syncDir, writeAllNow } from "./fs-util.ts";
import { writeFirstGeneration, writeNextGeneration } from "./generation.ts";
import { readLeaseToken, writeLeaseToken } from "./lease-file.ts";
import { OpQueue } from "./op-queue.ts";
import { type ActorPlace, type OpenedActor, actorExists, openActor, readMetaFile } from "./open-actor.ts";
import type { CompactionStep, FileDriverLogger, FileDriverStats, FileDriverTestHooks } from "./types.ts";

/** What the actor's files need from the directory they live in (store.ts). */
export interface StoreHost {
  readonly actorsDir: string;
  readonly tmpDir: string;
  readonly alarms: AlarmIndex;
  /** Where appends become durable together (journal.ts). */
  readonly journal: Journal;
  readonly stats: FileDriverStats;
  /** Newest fencing token per actor id, shared by every driver object open on the directory. */
  readonly tokens: Map<string, number>;
  /** At least every token handed out to an actor that did not exist and was forgotten since. */
  tokenFloor: number;
  /** The write of an actor's newest token to its lease file, while it runs or once it failed. */
  readonly leaseWrites: Map<string, Promise<void>>;
  readonly log: FileDriverLogger;
  readonly hooks: FileDriverTestHooks | undefined;
  /** The files went idle with nothing open: drop them from the directory's table. */
  forget(files: ActorFiles): void;
}

const noop = () => undefined;

interface PendingAppend {
  readonly bytes: Uint8Array;
  readonly alarm: number | null | undefined;
  readonly token: number;
  resolve(): void;
  reject(error: unknown): void;
}

export class ActorFiles implements ActorPlace, JournaledLog {
  readonly dir: string;
  private readonly queue: OpQueue<PendingAppend>;
  /** The open log (null: not opened, or the actor does not exist). */
  private handle: FileHandle | null = null;
  private gen = 0;
  private size = 0;
  /** The open log holds frames written since its last fsync (durable through the journal). */
  private unsynced = false;
  /** A log closed without its journaled frames made durable: the journal must keep them. */
  private lostSync: unknown = null;
  private meta: ActorMeta | null = null;
  /** Set when a write or fsync failed: nothing more is written until the actor is loaded again. */
  private failure: unknown = null;
  /** This actor's entry in the alarm index. */
  private readonly alarm: AlarmEntry;
  /** The fsync of the directory after opening it (see reopen). */
  private namesSync: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: StoreHost,
    readonly id: string,
    readonly hex: string,
  ) {
    this.dir = join(host.actorsDir, hex);
    this.alarm = new AlarmEntry(host.alarms, id, hex, host.log);
    this.queue = new OpQueue(
      (batch) => this.flush(batch),
      () => {
        if (this.handle === null) host.forget(this);
      },
    );
  }

  get stats(): FileDriverStats {
    return this.host.stats;
  }
  get log(): FileDriverLogger {
    return this.host.log;
  }

  barrier(): Promise<void> {
    return this.queue.barrier();
  }

  /** Closes the log once queued work is done (the directory is being closed). */
  async close(): Promise<void> {
    await this.queue.idle();
    await this.closeHandle();
    await this.leaseWrite.catch(noop);
    if (this.lostSync !== null) throw this.lostSync;
  }

  // -------------------------------------------------------------------------------------
  // Leases

  /** The newest token's write to the lease file (see acquire); kept by the directory, since
   *  these files may be dropped from its table once idle, before the write is done. */
  private get leaseWrite(): Promise<void> {
    return this.host.leaseWrites.get(this.id) ?? Promise.resolve();
  }

  private async currentToken(): Promise<number> {
    const known = this.host.tokens.get(this.id);
    if (known !== undefined) return known;
    // Above every token handed out to an actor that did not exist (see release), so that
    // none of those leases passes a check again.
    const floor = this.host.tokenFloor;
    const token = Math.max(await readLeaseToken(this.dir, this.id), floor > 0 ? floor + 1 : 0);
    this.host.tokens.set(this.id, token);
    return token;
  }

  private async checkLease(lease: Lease): Promise<void> {
    const current = await this.currentToken();
    if (lease.token !== current) throw new StaleLease(this.id, lease.token, current);
  }

  acquire(): Promise<Lease> {
    return this.queue.run(async () => {
      const token = (await this.currentToken()) + 1;
      // From here on every queued write of an earlier owner is refused.
      this.host.tokens.set(this.id, token);
      // Durable before any write carrying the token, not before the load (see the header).
      const write = this.leaseWrite.catch(noop).then(async () => {
        if (await this.exists()) await writeLeaseToken(this.dir, token, this.stats);
      });
      // Whoever writes next waits for it, and fails with it; forgotten once it succeeded.
      const leases = this.host.leaseWrites;
      leases.set(this.id, write);
      write.then(() => leases.get(this.id) === write && leases.delete(this.id), noop);
      return { id: this.id, token };
    });
  }

  release(lease: Lease): Promise<void> {
    return this.queue.run(async () => {
      if (this.host.tokens.get(this.id) !== lease.token) return; // someone newer owns it
      await this.closeHandle();
      const written = await this.leaseWrite.then(
        () => true,
        () => false,
      );
      // The token is on disk when the actor exists. When it does not (a lookup of a missing
      // actor), the token is forgotten too, and the directory's floor rises to it: every later
      // token of any actor outranks it, so no token is ever handed out twice.
      if (!written) return;
      if (!(await this.exists())) this.host.tokenFloor = Math.max(this.host.tokenFloor, lease.token);
      this.host.tokens.delete(this.id);
    });
  }

  /** Before a write: the token it carries and the names of the files in use are durable. */
  private async writable(): Promise<void> {
    await this.leaseWrite;
    await this.namesSync;
  }

  // -------------------------------------------------------------------------------------
  // Opening

  private exists(): Promise<boolean> {
    return this.handle !== null ? Promise.resolve(true) : actorExists(this.dir);
  }

  /** The actor's meta (read without queueing: it never changes once the actor exists). */
  readMeta(): Promise<ActorMeta | null> {
    return this.meta !== null ? Promise.resolve(this.meta) : readMetaFile(this.dir, this.id);
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    this.meta = null;
    this.alarm.forget();
    await this.namesSync.catch(noop);
    if (handle === null) return;
    // Its journaled frames must be in the log itself before the journal can forget them.
    if (this.unsynced) await datasync(handle, this.stats).catch((error: unknown) => (this.lostSync = error));
    this.unsynced = false;
    await handle.close().catch(() => undefined);
  }

  /** For a journal checkpoint: makes every frame written so far durable in the log. */
  syncLog(): Promise<void> {
    return this.queue.run(async () => {
      if (this.lostSync !== null) throw this.lostSync;
      if (this.handle === null || !this.unsynced) return; // closed (and synced then), or nothing new
      this.unsynced = false;
      try {
        await datasync(this.handle, this.stats);
      } catch (error) {
        this.unsynced = true;
        throw error;
      }
    });
  }

  /** (Re)reads the actor from disk and keeps its log open; null when it does not exist. */
  private async reopen(decode: boolean): Promise<OpenedActor | null> {
    await this.closeHandle();
    this.failure = null;
    const opened = await openActor(this, decode);
    if (opened === null) return null;
    this.namesSync = syncDir(this.dir, this.stats);
    this.namesSync.catch(noop); // the next write waits for it, and fails with it
    this.handle = opened.handle;
    this.gen = opened.gen;
    this.size = opened.size;
    this.meta = opened.meta;
    return opened;
  }

  /** Opens the log for writing when it is not open; false when the actor does not exist. */
  private async ensureOpen(): Promise<boolean> {
    if (this.failure !== null) {
      throw new Error(`Actor ${this.id}: an earlier write failed; nothing more is written until the actor is loaded again`, { cause: this.failure });
    }
    return this.handle !== null || (await this.reopen(false)) !== null;
  }

  load(lease: Lease): Promise<StoredActor | null> {
    return this.queue.run(async () => {
      await this.checkLease(lease);
      const indexed = this.alarm.read(); // read along with the actor's files
      indexed.catch(noop);
      const opened = await this.reopen(true);
      if (opened === null) return null;
      const stored = foldCommits(opened.meta, opened.snapshot, opened.commits);
      try {
        this.alarm.keep(await indexed);
        await this.alarm.sync(earliest(stored.schedules), opened.meta); // the fallback that repairs the index
      } catch (error) {
        this.log.warn({ actorId: this.id, err: error }, "file driver: could not repair the alarm index");
      }
      return stored;
    });
  }

  // -------------------------------------------------------------------------------------
  // Writes

  create(meta: ActorMeta, first: Commit, lease: Lease): Promise<void> {
    const logBytes = encodeFrame(encodeBatch([encodeCommit(first)]), "log");
    const alarm = first.alarm ?? null;
    const exists = () => new ActorAlreadyExists(`Actor "${meta.name}" ${JSON.stringify(meta.key)} already exists`);
    return this.queue.run(async () => {
      await this.checkLease(lease);
      await this.leaseWrite;
      if (await this.exists()) throw exists();
      const place = { dir: this.dir, tmpDir: this.host.tmpDir, hex: this.hex, stats: this.stats };
      // The index entry goes first: an early or orphan entry is harmless, a missing one is not.
      await writeFirstGeneration(place, meta, lease, logBytes, async () => (alarm !== null ? this.alarm.set(alarm, true, meta) : undefined), exists);
      await syncDir(this.host.actorsDir, this.stats);
      this.handle = await open(join(this.dir, "log.0"), "r+");
      this.namesSync = Promise.resolve(); // synced just above
      this.gen = 0;
      this.size = logBytes.length;
      this.meta = meta;
      this.failure = null;
      this.stats.frames++;
      this.stats.commits++;
      if (alarm === null) await this.alarm.syncLazily(null, meta); // an entry left by an earlier failed create
    });
  }

  /** Queues one commit; it joins the batch that the next write+fsync of this actor covers. */
  append(commit: Commit, lease: Lease): Promise<void> {
    const bytes = encodeCommit(commit); // copied now: the caller may reuse its objects
    return new Promise<void>((resolve, reject) => this.queue.add({ bytes, alarm: commit.alarm, token: lease.token, resolve, reject }));
  }

  private async flush(batch: PendingAppend[]): Promise<void> {
    const live: PendingAppend[] = [];
    try {
      const current = await this.currentToken();
      for (const pending of batch) {
        if (pending.token === current) live.push(pending);
        else pending.reject(new StaleLease(this.id, pending.token, current));
      }
      if (live.length === 0) return;
      if (!(await this.ensureOpen())) throw new StorageCorrupt(`Actor ${this.id}: append to an actor that does not exist`);
      await this.writable();
    } catch (error) {
      for (const pending of live) pending.reject(error);
      return;
    }

    let alarm: number | null | undefined;
    for (const pending of live) if (pending.alarm !== undefined) alarm = pending.alarm;
    const frame = encodeFrame(encodeBatch(live.map((pending) => pending.bytes)));
    try {
      const early = alarm !== undefined && movesEarlier(alarm, await this.alarm.current());
      // An alarm that moves earlier must be indexed before the commit is acknowledged.
      await Promise.all([this.writeFrame(frame), early ? this.alarm.set(alarm!, true, this.meta!) : undefined]);
    } catch (error) {
      for (const pending of live) pending.reject(error);
      return;
    }
    this.stats.commits += live.length;
    for (const pending of live) pending.resolve();
    if (alarm !== undefined) await this.alarm.syncLazily(alarm, this.meta!);
  }

  /**
   * One write into the log, made durable by the shared journal (one fsync for every actor
   * appending meanwhile); on failure the file is cut back and the actor stops writing.
   */
  private async writeFrame(frame: Uint8Array): Promise<void> {
    const handle = this.handle!;
    const at = this.size;
    try {
      // Into the page cache from this thread: a small write costs less than a thread-pool
      // round trip; the journal's durable write is the one that waits for the disk.
      writeAllNow(handle, frame, at);
      this.unsynced = true;
      await this.host.journal.commit({ hex: this.hex, gen: this.gen, offset: at, frame }, this);
    } catch (error) {
      // After a failed fsync the kernel may have dropped the dirty pages: what the file holds
      // is unknown, so stop writing until a reload reads back what is really there.
      this.failure = error;
      await handle.truncate(at).catch(() => undefined);
      throw error;
    }
    this.size = at + frame.length;
    this.stats.frames++;
  }

  compact(snapshot: Snapshot, lease: Lease): Promise<void> {
    const snapshotBytes = encodeFrame(encodeSnapshot(snapshot), "snapshot");
    return this.queue.run(async () => {
      await this.checkLease(lease);
      if (!(await this.ensureOpen())) throw new StorageCorrupt(`Actor ${this.id}: compact of an actor that does not exist`);
      await this.writable();
      const next = this.gen + 1;
      const newLog = await writeNextGeneration(this.dir, next, snapshotBytes, this.stats, (step) => this.step(step));
      // The commit point is behind us: generation `next` is what any reader now sees.
      const old = { handle: this.handle!, gen: this.gen };
      this.handle = newLog;
      this.gen = next;
      this.size = FILE_HEADER_SIZE;
      this.unsynced = false; // the old log's frames are in the snapshot; it is deleted below
      await old.handle.close().catch(() => undefined);
      try {
        await this.step("renamed");
        await syncDir(this.dir, this.stats);
      } catch (error) {
        this.failure = error; // the rename may not be durable: appends to the new log could vanish with it
        throw error;
      }
      await this.step("dir-synced");
      await unlink(join(this.dir, `log.${old.gen}`)).catch(() => undefined);
      if (old.gen > 0) await unlink(join(this.dir, `snap.${old.gen}`)).catch(() => undefined);
      this.stats.compactions++;
      await this.alarm.syncLazily(snapshot.alarm, this.meta!);
    });
  }

  private async step(step: CompactionStep): Promise<void> {
    await this.host.hooks?.compactionStep?.(step, this.id);
  }
}

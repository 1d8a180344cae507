/**
 * `memoryDriver()`: the driver contract held in memory, for tests and examples. Data lives
 * as long as the driver object, so several servers (one after another, or at once to test
 * fencing) can share one. Values are copied in and out, as a real store would.
 * @public
 */
import { ActorAlreadyExists, StaleLease, StorageCorrupt } from "../../shared/errors.ts";
import { foldCommits } from "./fold.ts";
import { type ActorMeta, type Alarm, type Commit, type Driver, type Lease, type SeqRecord, type Snapshot, type StoredActor } from "./driver.ts";

interface MemoryActor {
  meta: ActorMeta;
  snapshot: Snapshot | null;
  commits: Commit[];
  alarm: number | null;
}

export interface MemoryDriver extends Driver {
  /** How many actors are stored (for tests). */
  readonly size: number;
  /** Corrupts an actor's stored data, so that loading it fails (for tests). */
  corrupt(id: string): void;
  /** Fencing tokens held in memory (for tests: lookups of missing actors must not leave any). */
  readonly tokensHeld: number;
}

export function memoryDriver(): MemoryDriver {
  const actors = new Map<string, MemoryActor>();
  const tokens = new Map<string, number>();
  /**
   * At least every token handed out for an actor whose entry was dropped (a missing actor
   * looked up and released): a later acquire of any id starts above it, so dropping the
   * entry never lets a token be handed out twice.
   */
  let floor = 0;
  const corrupted = new Set<string>();

  function checkLease(id: string, lease: Lease): void {
    const current = tokens.get(id) ?? 0;
    if (lease.token !== current) throw new StaleLease(id, lease.token, current);
  }

  return {
    name: "memory",
    get size() {
      return actors.size;
    },
    corrupt(id) {
      corrupted.add(id);
    },
    get tokensHeld() {
      return tokens.size;
    },
    async acquire(id) {
      const token = (tokens.get(id) ?? floor) + 1;
      tokens.set(id, token);
      return { id, token };
    },
    async release(lease) {
      // The newest owner of an actor that does not exist lets go: forget its token.
      if (tokens.get(lease.id) === lease.token && !actors.has(lease.id)) {
        tokens.delete(lease.id);
        floor = Math.max(floor, lease.token);
      }
    },
    async meta(id) {
      const actor = actors.get(id);
      return actor ? structuredClone(actor.meta) : null;
    },
    async load(id, lease): Promise<StoredActor | null> {
      checkLease(id, lease);
      const actor = actors.get(id);
      if (!actor) return null;
      if (corrupted.has(id)) throw new StorageCorrupt(`Actor ${id}: stored data is corrupt`);
      return structuredClone(foldCommits(actor.meta, actor.snapshot, actor.commits));
    },
    async create(meta, first, lease) {
      checkLease(meta.id, lease);
      if (actors.has(meta.id)) throw new ActorAlreadyExists();
      actors.set(meta.id, { meta: structuredClone(meta), snapshot: null, commits: [structuredClone(first)], alarm: first.alarm ?? null });
    },
    async append(id, commit, lease) {
      checkLease(id, lease);
      const actor = actors.get(id);
      if (!actor) throw new StorageCorrupt(`Actor ${id}: append to an actor that does not exist`);
      actor.commits.push(copyCommit(commit));
      if (commit.alarm !== undefined) actor.alarm = commit.alarm;
    },
    async compact(id, snapshot, lease) {
      checkLease(id, lease);
      const actor = actors.get(id);
      if (!actor) throw new StorageCorrupt(`Actor ${id}: compact of an actor that does not exist`);
      actor.snapshot = structuredClone(snapshot);
      actor.commits = [];
      actor.alarm = snapshot.alarm;
    },
    async alarms() {
      const out: Alarm[] = [];
      for (const actor of actors.values()) {
        if (actor.alarm !== null) out.push({ id: actor.meta.id, name: actor.meta.name, key: [...actor.meta.key], at: actor.alarm });
      }
      return out;
    },
    async close() {},
  };
}

/**
 * A copy of a commit that shares nothing mutable with the caller's: what structuredClone
 * gives, without its cost for the common commit (an update and a seq record whose result
 * is a primitive), which is appended once per action.
 */
function copyCommit(commit: Commit): Commit {
  const copy: { -readonly [K in keyof Commit]: Commit[K] } = {};
  if (commit.update !== undefined) copy.update = commit.update.slice();
  if ("privateState" in commit) copy.privateState = copyValue(commit.privateState);
  if (commit.seqs !== undefined) copy.seqs = commit.seqs.map(copySeq);
  if (commit.seqsRemoved !== undefined) copy.seqsRemoved = [...commit.seqsRemoved];
  if (commit.schedules !== undefined) copy.schedules = structuredClone(commit.schedules);
  if (commit.alarm !== undefined) copy.alarm = commit.alarm;
  return copy;
}

function copySeq(record: SeqRecord): SeqRecord {
  const result = record.result.ok ? { ok: true as const, value: copyValue(record.result.value) } : { ok: false as const, error: structuredClone(record.result.error) };
  return record.at === undefined ? { clientId: record.clientId, seq: record.seq, result } : { clientId: record.clientId, seq: record.seq, result, at: record.at };
}

function copyValue<T>(value: T): T {
  return typeof value === "object" && value !== null ? structuredClone(value) : value;
}

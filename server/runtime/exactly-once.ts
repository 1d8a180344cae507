/**
 * Exactly-once bookkeeping of one actor (shared/protocol/PROTOCOL.md "Exactly-once", "Windows"): per client, the last seq applied and the
 * results of its recent seqs, so that a resent action (lost ack, reconnect, tab crash) gets
 * its recorded result instead of running twice — within bounds, since a record is written
 * for every action anyone sends.
 *
 * Owners. Records belong to a client id *and* the identity that sent them (`seqOwner`): the
 * client id travels in the hello, before any auth, so anyone who learns one could otherwise
 * read its recorded results or push its seqs out of reach. Another identity using the same
 * client id gets its own, empty record space: it can neither read nor burn the owner's.
 *
 * Keys, as drivers store them: `owner␀slot`, slot = seq mod RESULT_WINDOW, one record per
 * applied action; the last seq applied per owner is the highest seq among its records (each
 * action writes its slot, so the newest is always there). Data written before owners existed
 * used `clientId␀slot` and bare `clientId` keys: they load as owners of the bare client id,
 * which answer nobody's resend (that would show their results to anyone) but keep a seq they
 * cover from running again: such a resend gets `result_not_kept`. They age out like any
 * idle owner.
 *
 * Bounds (ExactlyOnceLimits), checked at every record:
 * - a result larger than `maxResultBytes` is recorded as a `result_not_kept` error (the call
 *   itself gets its value; only a resend gets the error);
 * - per owner, at most RESULT_WINDOW records and `maxBytesPerOwner` bytes: the oldest records
 *   go first (their seqs stay applied: a resend gets `result_not_kept`, never a second run);
 * - per actor, at most `maxOwnersPerActor` owners and `maxBytesPerActor` bytes, and owners not
 *   seen for `ownerIdleMs` are dropped: least recently used first. A dropped owner's seqs are
 *   forgotten — the one case where a very late resend would run again.
 * Dropped records are deleted from storage in the same commit (`Commit.seqsRemoved`), and
 * the actor compacts its log once the records appended since its snapshot pass
 * `maxBytesPerActor` (`loggedBytes`): what records take on disk stays near twice that.
 *
 * Seq jumps: a seq more than `maxSeqJump` above the owner's last (or above 0 for a new owner)
 * is refused with invalid_arguments and records nothing, so no seq can put every later one
 * of its owner out of reach. (A client's seqs count across all actors and skip reserved
 * blocks after a reload, so the gap between two seqs on one actor is legitimately large.)
 */
import { createHash } from "node:crypto";
import { InvalidArguments, ResultNotKept, errorFromWire } from "../../shared/errors.ts";
import { RESULT_WINDOW } from "../../shared/protocol/windows.ts";
import type { RecordedResult, SeqRecord } from "../drivers/driver.ts";

/** @public Limits of the exactly-once records of one actor (createServer `limits`). */
export interface ExactlyOnceLimits {
  /** Largest result kept for a resend, in bytes (estimated); a larger one is kept as a `result_not_kept` error. */
  maxResultBytes: number;
  /** Bytes of recorded results per owner (client id × identity) and actor: the oldest go first. */
  maxBytesPerOwner: number;
  /** Owners with records per actor: the least recently seen are dropped first. */
  maxOwnersPerActor: number;
  /** Bytes of recorded results per actor: the least recently seen owners are dropped first. */
  maxBytesPerActor: number;
  /** Owners not seen for this long (ms) are dropped. */
  ownerIdleMs: number;
  /** Largest step from an owner's last applied seq to a new one (refused above: invalid_arguments). */
  maxSeqJump: number;
}

export const DEFAULT_EXACTLY_ONCE_LIMITS: ExactlyOnceLimits = {
  maxResultBytes: 16 * 1024,
  maxBytesPerOwner: 256 * 1024,
  maxOwnersPerActor: 10_000,
  maxBytesPerActor: 4 * 1024 * 1024,
  ownerIdleMs: 30 * 24 * 60 * 60 * 1000,
  maxSeqJump: 2 ** 32,
};

// Results of the last RESULT_WINDOW seqs of an owner can be answered again (the client's
// in-flight window is smaller): both windows are in shared/protocol/windows.ts.

const SEP = "\u0000";

/** Dedupe key of an action sent through a client's outbox: its owner (see `seqOwner`) and seq. */
export interface ActionSeq {
  readonly clientId: string;
  readonly seq: number;
}

/**
 * The owner of a client's records: its client id bound to the digest (`identityDigest`) of
 * the identity that sent the action.
 */
export function seqOwner(clientId: string, identity: string): string {
  return `${clientId}${SEP}${identity}`;
}

/**
 * A digest of who a connection is, stable across token refreshes where it can be (a resend
 * after a refresh must find its record): `identity(auth)` when the actor defines `identity`;
 * else the `id` and `userId` fields of the onAuth result when it has either; else the whole
 * result (undefined without onAuth: then there is no identity to bind to).
 */
export function identityDigest(auth: unknown, identity?: (auth: never) => unknown): string {
  let who: unknown = auth;
  if (identity !== undefined) {
    try {
      who = identity(auth as never);
    } catch {
      who = auth;
    }
  } else if (typeof auth === "object" && auth !== null && ("id" in auth || "userId" in auth)) {
    const { id, userId } = auth as { id?: unknown; userId?: unknown };
    who = { id, userId };
  }
  return createHash("sha256").update(canonical(who, 0)).digest("base64url").slice(0, 22);
}

/** A stable text of a value (object keys sorted), for the identity digest. */
function canonical(value: unknown, depth: number): string {
  if (value === undefined) return "u";
  if (value === null || typeof value !== "object") return typeof value === "string" ? JSON.stringify(value) : `${typeof value}:${String(value)}`;
  if (depth > 32) return "…";
  if (value instanceof Uint8Array) return `b:${Buffer.from(value).toString("base64")}`;
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item, depth + 1)).join(",")}]`;
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key], depth + 1)}`);
  return `{${entries.join(",")}}`;
}

/** What one record adds to storage: the record to put and the keys to delete, in one commit. */
export interface SeqWrite {
  readonly put: SeqRecord;
  readonly removed: readonly string[];
}

/** An owner of records as the inspector lists it. */
export interface OwnerSummary {
  readonly clientId: string;
  /** The digest of the identity that sent its actions (null: records from before owners). */
  readonly identity: string | null;
  readonly lastSeq: number;
  readonly records: number;
  readonly bytes: number;
  /** Epoch ms it was last seen. */
  readonly seenAt: number;
}

interface Owner {
  last: number;
  seen: number;
  bytes: number;
  /** Its record keys, oldest seq first. */
  readonly keys: Set<string>;
}

interface Kept {
  readonly record: SeqRecord;
  readonly owner: string;
  readonly bytes: number;
}

export class ExactlyOnce {
  private readonly kept = new Map<string, Kept>();
  /** Owners, least recently seen first. */
  private readonly owners = new Map<string, Owner>();
  private totalBytes = 0;
  /** Bytes of records handed to storage since the last snapshot (the runtime compacts past maxBytesPerActor). */
  loggedBytes = 0;
  /** Keys dropped outside a commit (idle owners at load): deleted with the next record. */
  private pendingRemovals: string[] = [];

  constructor(
    private readonly limits: ExactlyOnceLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records as loaded from storage; idle owners are dropped at once (deleted with the next record). */
  load(records: Iterable<SeqRecord>): void {
    const loadedAt = this.now();
    const sorted = [...records].sort((a, b) => (a.at ?? loadedAt) - (b.at ?? loadedAt) || a.seq - b.seq);
    for (const record of sorted) {
      const owner = ownerOfKey(record);
      this.add(owner, record, record.at ?? loadedAt);
    }
    this.pendingRemovals.push(...this.evict(null));
  }

  /** Every record kept (what a snapshot stores). */
  records(): SeqRecord[] {
    return [...this.kept.values()].map((kept) => kept.record);
  }

  /** How many owners have records (for tests and metrics). */
  get ownerCount(): number {
    return this.owners.size;
  }

  /** Bytes of recorded results, as estimated (for tests and metrics). */
  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * Before an action with a seq runs: its recorded outcome if the seq was applied already
   * (`{ replay }`, throwing the recorded error or `result_not_kept`), null if it is new.
   * Refuses a seq too far ahead (invalid_arguments), recording nothing.
   */
  check(seq: ActionSeq): { readonly replay: () => unknown } | null {
    if (!Number.isSafeInteger(seq.seq) || seq.seq < 1) throw new InvalidArguments(`An action seq is a positive integer, not ${seq.seq}`);
    const owner = this.owners.get(seq.clientId);
    if (owner !== undefined && seq.seq <= owner.last) {
      this.touch(seq.clientId, owner, this.now());
      const kept = this.kept.get(slotKey(seq.clientId, seq.seq));
      return { replay: () => replayResult(kept?.record, seq) };
    }
    // Records of this client id written before owners existed (see the header).
    const cut = seq.clientId.lastIndexOf(SEP);
    const legacy = owner === undefined && cut > 0 ? this.owners.get(seq.clientId.slice(0, cut)) : undefined;
    if (legacy !== undefined && seq.seq <= legacy.last) {
      return { replay: () => replayResult(undefined, seq) };
    }
    const last = owner?.last ?? legacy?.last ?? 0;
    if (seq.seq - last > this.limits.maxSeqJump) {
      throw new InvalidArguments(`Action seq ${seq.seq} jumps more than ${this.limits.maxSeqJump} past this client's last seq ${last}`);
    }
    return null;
  }

  /** Each owner's last applied seq, records and bytes, most recently seen first, at most `max` (the inspector). */
  ownerList(max: number): OwnerSummary[] {
    const out: OwnerSummary[] = [];
    const keys = [...this.owners.keys()];
    for (let i = keys.length - 1; i >= 0 && out.length < max; i--) {
      const key = keys[i]!;
      const owner = this.owners.get(key)!;
      const cut = key.indexOf(SEP);
      out.push({ clientId: cut < 0 ? key : key.slice(0, cut), identity: cut < 0 ? null : key.slice(cut + 1), lastSeq: owner.last, records: owner.keys.size, bytes: owner.bytes, seenAt: owner.seen });
    }
    return out;
  }

  /**
   * Forgets every record of a client id, whatever identity sent them (the inspector's reset):
   * its next seq runs as new, and so would a resend of one it applied. Gives the keys to
   * delete from storage.
   */
  forget(clientId: string): string[] {
    const removed: string[] = [];
    for (const [key, owner] of [...this.owners]) {
      if (key !== clientId && !key.startsWith(clientId + SEP)) continue;
      for (const recordKey of [...owner.keys]) {
        this.drop(recordKey);
        removed.push(recordKey);
      }
    }
    return removed;
  }

  /** Records an applied seq and its outcome; gives what the commit must write. */
  record(seq: ActionSeq, result: RecordedResult): SeqWrite {
    const at = this.now();
    const size = resultBytes(result, this.limits.maxResultBytes);
    const kept: RecordedResult =
      size > this.limits.maxResultBytes
        ? { ok: false, error: new ResultNotKept(`Action seq ${seq.seq} was applied; its result (over ${this.limits.maxResultBytes} bytes) is too large to keep for a resend`).toWire() }
        : result;
    const put: SeqRecord = { clientId: slotKey(seq.clientId, seq.seq), seq: seq.seq, result: kept, at };
    this.add(seq.clientId, put, at);
    this.loggedBytes += this.kept.get(put.clientId)!.bytes;
    const removed = [...this.pendingRemovals.splice(0), ...this.evict(seq.clientId)];
    return { put, removed };
  }

  private add(ownerKey: string, record: SeqRecord, at: number): void {
    const previous = this.kept.get(record.clientId);
    if (previous !== undefined) this.drop(record.clientId);
    let owner = this.owners.get(ownerKey);
    if (owner === undefined) {
      owner = { last: 0, seen: at, bytes: 0, keys: new Set() };
      this.owners.set(ownerKey, owner);
    }
    const bytes = record.clientId.length + 16 + resultBytes(record.result, Infinity);
    this.kept.set(record.clientId, { record, owner: ownerKey, bytes });
    owner.keys.add(record.clientId);
    owner.bytes += bytes;
    this.totalBytes += bytes;
    if (record.seq > owner.last) owner.last = record.seq;
    this.touch(ownerKey, owner, at);
  }

  /** The owner was seen at `at`: it moves to the most recently seen end. */
  private touch(key: string, owner: Owner, at: number): void {
    owner.seen = Math.max(owner.seen, at);
    this.owners.delete(key);
    this.owners.set(key, owner);
  }

  /** Removes one record; its owner goes when its last record goes. */
  private drop(key: string): void {
    const kept = this.kept.get(key);
    if (kept === undefined) return;
    this.kept.delete(key);
    this.totalBytes -= kept.bytes;
    const owner = this.owners.get(kept.owner);
    if (owner === undefined) return;
    owner.bytes -= kept.bytes;
    owner.keys.delete(key);
    if (owner.keys.size === 0) this.owners.delete(kept.owner);
  }

  /** Applies every bound; `current` (the owner just recorded) keeps at least its newest record. */
  private evict(current: string | null): string[] {
    const removed: string[] = [];
    if (current !== null) {
      const owner = this.owners.get(current);
      // Oldest seqs first; the newest stays (it holds the owner's last seq).
      while (owner !== undefined && owner.keys.size > 1 && (owner.bytes > this.limits.maxBytesPerOwner || owner.keys.size > RESULT_WINDOW)) {
        const oldest = oldestKey(this.kept, owner.keys);
        this.drop(oldest);
        removed.push(oldest);
      }
    }
    const idleBefore = this.now() - this.limits.ownerIdleMs;
    for (const [key, owner] of this.owners) {
      const over = this.owners.size > this.limits.maxOwnersPerActor || this.totalBytes > this.limits.maxBytesPerActor || owner.seen < idleBefore;
      if (!over) break; // least recently seen first: the rest are newer
      if (key === current) continue;
      for (const recordKey of [...owner.keys]) {
        this.drop(recordKey);
        removed.push(recordKey);
      }
    }
    return removed;
  }
}

function slotKey(owner: string, seq: number): string {
  return `${owner}${SEP}${seq % RESULT_WINDOW}`;
}

/** The owner of a stored record: its key without the slot (older bare last-seq records: the whole key). */
function ownerOfKey(record: SeqRecord): string {
  const cut = record.clientId.lastIndexOf(SEP);
  const isSlot = cut >= 0 && record.clientId.slice(cut + 1) === String(record.seq % RESULT_WINDOW);
  return isSlot ? record.clientId.slice(0, cut) : record.clientId;
}

function oldestKey(kept: ReadonlyMap<string, Kept>, keys: ReadonlySet<string>): string {
  let oldest: string | null = null;
  let oldestSeq = Infinity;
  for (const key of keys) {
    const seq = kept.get(key)?.record.seq ?? -Infinity;
    if (seq < oldestSeq) {
      oldestSeq = seq;
      oldest = key;
    }
  }
  return oldest!;
}

function replayResult(recorded: SeqRecord | undefined, seq: ActionSeq): unknown {
  if (recorded === undefined || recorded.seq !== seq.seq) {
    throw new ResultNotKept(`Action seq ${seq.seq} was applied already; its result is no longer kept`);
  }
  if (recorded.result.ok) return recorded.result.value;
  throw errorFromWire(recorded.result.error);
}

/**
 * An estimate of what a recorded result costs in storage (bytes), stopping once over `cap`.
 * Results are plain data (checked when the action returns): JSON-like values and Uint8Array.
 */
export function resultBytes(result: RecordedResult, cap: number): number {
  if (!result.ok) return 64 + Buffer.byteLength(result.error.message) + (result.error.metadata === undefined ? 0 : valueBytes(result.error.metadata, cap, 0));
  return valueBytes(result.value, cap, 0);
}

function valueBytes(value: unknown, cap: number, depth: number): number {
  if (value === null || value === undefined || typeof value === "boolean") return 1;
  if (typeof value === "number") return 9;
  if (typeof value === "string") return 5 + Buffer.byteLength(value);
  if (value instanceof Uint8Array) return 5 + value.byteLength;
  if (depth > 64 || typeof value !== "object") return cap + 1;
  let total = 2;
  if (Array.isArray(value)) {
    for (const item of value) {
      total += valueBytes(item, cap, depth + 1);
      if (total > cap) return total;
    }
    return total;
  }
  for (const [key, item] of Object.entries(value)) {
    total += 5 + key.length * 3 + valueBytes(item, cap, depth + 1);
    if (total > cap) return total;
  }
  return total;
}

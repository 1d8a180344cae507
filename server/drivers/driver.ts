/**
 * The storage contract every driver implements (memory, file, redis). One actor's durable
 * data is an append-only series of commits over an optional snapshot:
 *
 *   snapshot? ⊕ commit₁ ⊕ commit₂ ⊕ …
 *
 * A commit is everything one mailbox task changed — the Yjs update of its state, its
 * privateState, the per-client seq records of exactly-once delivery, its schedule changes —
 * and is written atomically: all of it or none. The runtime acknowledges a call only after
 * `append` resolved ("persisted before acknowledged").
 *
 * Ownership: before loading an actor a node `acquire`s it and gets a lease with a fencing
 * token higher than every token handed out before. Every write carries the lease; a driver
 * refuses a write whose token is not the newest (`StaleLease`), so an owner that lost the
 * actor (paused, partitioned, replaced) can no longer write.
 *
 * A driver shared by several server processes (redis) also has `ownership`: leases there
 * expire unless renewed, `acquire` refuses an actor whose lease another live node holds
 * (`HeldElsewhere`), and nodes find each other through it to forward what they do not own.
 */
import { ActorStopped, type WireError } from "../../shared/errors.ts";

export interface ActorMeta {
  readonly id: string;
  readonly name: string;
  readonly key: readonly string[];
  readonly createdAt: number;
}

/** The result recorded for a client's action, returned again if the action is resent. */
export type RecordedResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireError };

/** Exactly-once bookkeeping: the last seq of a client applied to this actor, and its result. */
export interface SeqRecord {
  readonly clientId: string;
  readonly seq: number;
  readonly result: RecordedResult;
  /** When it was recorded (ms since the epoch): idle clients' records are pruned. Absent in older data. */
  readonly at?: number;
}

/** A durable timer: `action(...args)` runs at `at` (ms since the epoch). */
export interface ScheduleEntry {
  readonly id: string;
  readonly at: number;
  readonly action: string;
  readonly args: readonly unknown[];
}

export interface Commit {
  /** One Yjs update (v1 encoding) holding every state change of the task. */
  readonly update?: Uint8Array;
  /** The whole privateState (JSON), present when it changed. */
  readonly privateState?: unknown;
  readonly seqs?: readonly SeqRecord[];
  /** Keys of seq records to delete (pruned exactly-once records), applied before `seqs`. */
  readonly seqsRemoved?: readonly string[];
  readonly schedules?: { readonly put?: readonly ScheduleEntry[]; readonly remove?: readonly string[] };
  /** The earliest schedule of the actor after this commit (null: none), for `alarms()`. */
  readonly alarm?: number | null;
}

/** Everything of an actor at one point, as `compact` writes it. */
export interface Snapshot {
  /** `Y.encodeStateAsUpdate` of the whole document. */
  readonly doc: Uint8Array;
  readonly privateState: unknown;
  readonly seqs: readonly SeqRecord[];
  readonly schedules: readonly ScheduleEntry[];
  readonly alarm: number | null;
}

/** An actor as loaded: its snapshot and the commits since, folded by the driver. */
export interface StoredActor {
  readonly meta: ActorMeta;
  /** Yjs updates to apply in order: the snapshot's document first, then each commit's. */
  readonly updates: readonly Uint8Array[];
  readonly privateState: unknown;
  readonly seqs: ReadonlyMap<string, SeqRecord>;
  readonly schedules: readonly ScheduleEntry[];
  /** Commits written since the last snapshot: the runtime compacts past a threshold. */
  readonly commitsSinceSnapshot: number;
}

export interface Lease {
  readonly id: string;
  /** Fencing token: strictly increasing per actor across all owners. */
  readonly token: number;
}

export interface Alarm {
  readonly id: string;
  readonly name: string;
  readonly key: readonly string[];
  readonly at: number;
}

/** Where a node can be reached by its peers (forwarded channels and HTTP calls). */
export interface NodeAddress {
  readonly nodeId: string;
  /** Base URL of the node's HTTP/WebSocket server, e.g. "http://10.0.0.7:8080". */
  readonly url: string;
}

/**
 * `acquire` of an actor whose lease another node holds and keeps renewing. The node forwards
 * to the owner; where it cannot, the caller sees `actor_stopped` (retry: the lease may move).
 */
export class HeldElsewhere extends ActorStopped {
  constructor(
    readonly actorId: string,
    readonly ownerNodeId: string,
  ) {
    super(`Actor ${actorId} is live on another node; retry`);
  }
}

/** The cluster side of a driver shared by several server processes. */
export interface Ownership {
  /** This process's node id (unique per process start). */
  readonly nodeId: string;
  /** How long a lease lasts without renewal (ms); a dead owner's actors move after it. */
  readonly leaseMs: number;
  /** Publishes (and keeps, while renewing) where this node can be reached. */
  announce(url: string): Promise<void>;
  /** The node holding a live lease on the actor, with its address; null when none does. */
  owner(id: string): Promise<NodeAddress | null>;
  /** Extends every lease this node holds in `leases` (and the node's announcement); returns those it no longer holds. */
  renew(leases: readonly Lease[]): Promise<Lease[]>;
  /** The pending alarms due at or before `until` (ms since the epoch), of every actor. */
  dueAlarms(until: number): Promise<Alarm[]>;
  /** A secret shared by the nodes of one cluster (created on first use), proving a forwarded request comes from a peer. */
  secret(): Promise<string>;
}

export interface Driver {
  /** A short name for logs ("memory", "file", "redis"). */
  readonly name: string;
  /** Set by drivers shared between server processes (redis): see `Ownership`. */
  readonly ownership?: Ownership;
  /**
   * Takes ownership of an actor for this server; the token outranks every earlier one. A
   * shared driver refuses with `HeldElsewhere` while another node's lease is live (this
   * node's own lease is taken over, with a new token, as by a single-process driver).
   */
  acquire(id: string): Promise<Lease>;
  /** Gives ownership up (sleep, close); a later owner acquires anew. */
  release(lease: Lease): Promise<void>;
  /** Metadata only (id → name and key), for `getForId`; null when absent. */
  meta(id: string): Promise<ActorMeta | null>;
  /** The actor's durable data, or null when it does not exist. */
  load(id: string, lease: Lease): Promise<StoredActor | null>;
  /** Creates the actor with its first commit, atomically; `ActorAlreadyExists` if it exists. */
  create(meta: ActorMeta, first: Commit, lease: Lease): Promise<void>;
  /**
   * Appends one commit atomically; resolves once it is durable. The runtime does not wait
   * for one append before asking for the next (group commit): appends of one actor must be
   * written in call order, and once one fails no later one may be written (a gap would
   * leave updates that depend on a missing one). `compact` covers exactly the commits
   * appended before it was called.
   */
  append(id: string, commit: Commit, lease: Lease): Promise<void>;
  /** Replaces the snapshot and every commit before it with `snapshot`, atomically. */
  compact(id: string, snapshot: Snapshot, lease: Lease): Promise<void>;
  /** The pending alarm of every actor that has one (for waking actors after a restart). */
  alarms(): Promise<Alarm[]>;
  close(): Promise<void>;
}


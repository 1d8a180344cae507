/**
 * An actor's data in Redis, read and written through the fenced scripts (scripts.ts): load,
 * create, append, compact and meta. Each write is encoded and numbered synchronously at the
 * call and handed to the connection at once, so the writes of one actor reach Redis in call
 * order without waiting for each other (pipelined on the one connection).
 *
 * Outcomes: the script's refusal (stale token) → `StaleLease`; a write out of sequence, a
 * lost or timed-out connection, a Redis error, too few replica acknowledgements →
 * `StorageUnavailable` and the lease may not write again (lease-writes.ts); an actor that
 * exists already → `ActorAlreadyExists`; a write to a missing actor, or data that does not
 * decode → `StorageCorrupt`.
 */
import type { Redis } from "ioredis";
import { ActorAlreadyExists, InvalidArguments, StaleLease, StorageCorrupt, StorageUnavailable } from "../../../shared/errors.ts";
import type { ActorMeta, Commit, Lease, Snapshot, StoredActor } from "../driver.ts";
import { foldCommits } from "../fold.ts";
import type { RedisConnection, Reply } from "./connection.ts";
import { type ReplicaWait, type ReplicaWaits, confirmReplicas } from "./durability.ts";
import type { RedisKeys } from "./keys.ts";
import type { LeaseWrites } from "./lease-writes.ts";
import { decodeCommitRecord, decodeMetaRecord, decodeSnapshotRecord, encodeCommitRecord, encodeMetaRecord, encodeSnapshotRecord } from "./records.ts";
import type { ScriptName } from "./scripts.ts";

export interface ActorStoreParts {
  /** This node: the fencing check matches it along with the token. */
  readonly nodeId: string;
  /** The data connection: writes and loads, in call order. */
  readonly connection: RedisConnection;
  /** The control connection: meta lookups. */
  readonly control: RedisConnection;
  readonly keys: RedisKeys;
  readonly writes: LeaseWrites;
  readonly wait: ReplicaWaits | null;
}

type Send = (redis: Redis) => Promise<Reply>;

/** The alarm argument of a write script: "" unchanged, "-" none, else the time. */
function alarmArgument(alarm: number | null | undefined): string {
  if (alarm === undefined) return "";
  if (alarm === null) return "-";
  if (typeof alarm !== "number" || !Number.isFinite(alarm)) throw new InvalidArguments("An alarm must be a finite time in ms, or null");
  return String(alarm);
}

function text(reply: Reply | undefined): string {
  return reply === null || reply === undefined ? "" : Buffer.isBuffer(reply) ? reply.toString() : String(reply);
}

function corrupt(id: string, what: string, error: unknown): StorageCorrupt {
  const reason = error instanceof Error ? error.message : String(error);
  return new StorageCorrupt(`Actor ${id}: its ${what} in Redis is corrupt (${reason})`, { cause: error });
}

export class ActorStore {
  constructor(private readonly parts: ActorStoreParts) {}

  async meta(id: string): Promise<ActorMeta | null> {
    const { control, keys } = this.parts;
    const bytes = await control.send("meta", (redis) => redis.getBuffer(keys.meta(id)));
    if (bytes === null) return null;
    return this.decodeMeta(id, bytes);
  }

  async load(id: string, lease: Lease): Promise<StoredActor | null> {
    const { connection, keys } = this.parts;
    const reply = await connection.send(
      "load",
      connection.script("load", [keys.lease(id), keys.refusals, keys.meta(id), keys.snapshot(id), keys.log(id)], [lease.token, 0, this.parts.nodeId], true),
    );
    if (!Array.isArray(reply)) throw new StorageUnavailable(`Actor ${id}: unexpected reply to load`);
    const tag = text(reply[0]);
    if (tag === "stale") throw new StaleLease(id, lease.token, Number(text(reply[1])));
    if (tag === "missing") return null;
    if (tag !== "ok") throw new StorageUnavailable(`Actor ${id}: unexpected reply to load (${tag})`);
    const meta = this.decodeMeta(id, reply[1] as Buffer);
    let snapshot: Snapshot | null = null;
    let newest = 0;
    const snapshotBytes = reply[2] as Buffer;
    if (snapshotBytes.length > 0) {
      try {
        const record = decodeSnapshotRecord(snapshotBytes);
        snapshot = record.value;
        newest = record.token;
      } catch (error) {
        throw corrupt(id, "snapshot", error);
      }
    }
    const commits: Commit[] = [];
    for (let i = 3; i < reply.length; i++) {
      let record;
      try {
        record = decodeCommitRecord(reply[i] as Buffer);
      } catch (error) {
        throw corrupt(id, `commit ${i - 3}`, error);
      }
      // Owners follow each other: a record older than one before it was written by a fenced-off owner.
      if (record.token < newest || record.token > lease.token) throw corrupt(id, `commit ${i - 3}`, new Error(`fencing token ${record.token} out of order`));
      newest = record.token;
      commits.push(record.value);
    }
    return foldCommits(meta, snapshot, commits);
  }

  create(meta: ActorMeta, first: Commit, lease: Lease): Promise<void> {
    const { keys } = this.parts;
    const id = meta.id;
    return this.write("create", lease, () => {
      const alarm = alarmArgument(first.alarm ?? null);
      const metaRecord = encodeMetaRecord(meta);
      const record = encodeCommitRecord(lease.token, first);
      return [[keys.lease(id), keys.refusals, keys.meta(id), keys.log(id), keys.snapshot(id), keys.alarms], [id, metaRecord, record, alarm]];
    });
  }

  append(id: string, commit: Commit, lease: Lease): Promise<void> {
    const { keys } = this.parts;
    return this.write("append", lease, () => {
      const alarm = alarmArgument(commit.alarm);
      const record = encodeCommitRecord(lease.token, commit);
      return [[keys.lease(id), keys.refusals, keys.meta(id), keys.log(id), keys.alarms], [id, record, alarm]];
    });
  }

  compact(id: string, snapshot: Snapshot, lease: Lease): Promise<void> {
    const { keys } = this.parts;
    return this.write("compact", lease, () => {
      const alarm = alarmArgument(snapshot.alarm);
      const record = encodeSnapshotRecord(lease.token, snapshot);
      return [[keys.lease(id), keys.refusals, keys.meta(id), keys.log(id), keys.snapshot(id), keys.alarms], [id, record, alarm]];
    });
  }

  /**
   * One fenced write: encodes (bad input throws before anything is numbered or sent),
   * numbers it, sends the script — and WAIT right behind it when replicas must confirm.
   */
  private write(name: ScriptName, lease: Lease, build: () => [keys: string[], args: (string | Uint8Array)[]]): Promise<void> {
    const { connection, writes, wait } = this.parts;
    let send: Send;
    let waited: Promise<number> | null = null;
    try {
      const [keys, args] = build();
      const number = writes.take(lease);
      const script = connection.script(name, keys, [lease.token, number, this.parts.nodeId, ...args]);
      send = (redis) => {
        writes.checkUnbroken(lease); // it may have broken while this write waited for the connection
        const reply = script(redis);
        if (wait !== null) waited = wait.after(redis);
        return reply;
      };
    } catch (error) {
      return Promise.reject(error);
    }
    return connection.send(name, send).then(
      async (reply) => {
        const tag = Array.isArray(reply) ? text(reply[0]) : "";
        switch (tag) {
          case "ok":
            break;
          case "stale":
            throw new StaleLease(lease.id, lease.token, Number(text((reply as Reply[])[1])));
          case "exists":
            throw new ActorAlreadyExists();
          case "missing":
            throw new StorageCorrupt(`Actor ${lease.id}: ${name} of an actor that does not exist`);
          case "gap":
            writes.break(lease, "a write before it never reached Redis");
            throw new StorageUnavailable(`Actor ${lease.id}: ${name} refused by Redis: a write of lease ${lease.token} before it never reached Redis`);
          default:
            writes.break(lease, `unexpected reply to ${name}`);
            throw new StorageUnavailable(`Actor ${lease.id}: unexpected reply to ${name}`);
        }
        if (waited !== null && wait !== null) await this.confirm(name, lease, waited, wait.wait);
      },
      (error: unknown) => {
        writes.break(lease, error instanceof Error ? error.message : String(error));
        throw error;
      },
    );
  }

  private async confirm(name: string, lease: Lease, waited: Promise<number>, wait: ReplicaWait): Promise<void> {
    try {
      await confirmReplicas(waited, wait, `Actor ${lease.id}: ${name}`);
    } catch (error) {
      this.parts.writes.break(lease, "its replicas did not confirm it");
      throw error;
    }
  }

  private decodeMeta(id: string, bytes: Buffer): ActorMeta {
    let meta: ActorMeta;
    try {
      meta = decodeMetaRecord(bytes);
    } catch (error) {
      throw corrupt(id, "meta", error);
    }
    if (meta.id !== id) throw corrupt(id, "meta", new Error(`it names actor ${JSON.stringify(meta.id.slice(0, 120))}`));
    return meta;
  }
}

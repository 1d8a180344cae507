/**
 * The ownership facet of the Redis driver (driver.ts `Ownership`): leases that expire unless
 * renewed, node announcements, the owner of an actor, due alarms and the cluster secret.
 * `acquire` and `release` are the driver's own (redis.ts); they share the lease keys and
 * scripts described in keys.ts and scripts.ts.
 */
import { randomBytes } from "node:crypto";
import { InvalidArguments } from "../../../shared/errors.ts";
import type { Alarm, Lease, NodeAddress, Ownership } from "../driver.ts";
import type { RedisConnection, Reply } from "./connection.ts";
import type { RedisKeys } from "./keys.ts";
import type { LeaseWrites } from "./lease-writes.ts";
import { decodeMetaRecord } from "./records.ts";

export interface OwnershipParts {
  /** Throws InvalidArguments for what is no actor id. */
  readonly checkId: (id: string) => string;
  readonly checkLease: (lease: Lease) => Lease;
  readonly connection: RedisConnection;
  readonly keys: RedisKeys;
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly writes: LeaseWrites;
  /** Reports an alarm entry whose actor meta cannot be read (skipped). */
  readonly corrupt: (id: string, error: unknown) => void;
}

/** Longest announced URL accepted (it is stored in Redis and handed to peers). */
const MAX_URL_LENGTH = 2048;

export function redisOwnership(parts: OwnershipParts): Ownership {
  const { connection, keys, nodeId, leaseMs, writes } = parts;
  let announced = "";

  return {
    nodeId,
    leaseMs,
    async announce(url) {
      if (typeof url !== "string" || url === "" || url.length > MAX_URL_LENGTH || !/^https?:\/\//.test(url)) {
        throw new InvalidArguments(`announce() needs an http(s) URL of at most ${MAX_URL_LENGTH} characters`);
      }
      announced = url;
      await connection.send("announce", (redis) => redis.set(keys.node(nodeId), url, "PX", leaseMs * 2));
    },
    async owner(id) {
      const reply = await connection.send("owner", connection.script("owner", [keys.lease(parts.checkId(id))], [keys.nodePrefix]));
      if (!Array.isArray(reply) || reply.length < 2) return null;
      const address: NodeAddress = { nodeId: String(reply[0]), url: String(reply[1]) };
      return address;
    },
    async renew(leases) {
      if (!Array.isArray(leases)) throw new InvalidArguments("renew() needs an array of leases");
      const held = leases.map((lease) => parts.checkLease(lease));
      const reply = await connection.send(
        "renew",
        connection.script(
          "renew",
          [keys.node(nodeId), ...held.map((lease) => keys.lease(lease.id))],
          [nodeId, leaseMs, leaseMs * 2, announced, ...held.map((lease) => lease.token)],
        ),
      );
      const lost: Lease[] = [];
      for (const position of Array.isArray(reply) ? reply : []) {
        const lease = held[Number(position) - 1];
        if (lease === undefined) continue;
        writes.forget(lease);
        lost.push(lease);
      }
      return lost;
    },
    async dueAlarms(until) {
      if (typeof until !== "number" || Number.isNaN(until)) throw new InvalidArguments("dueAlarms() needs a time in ms");
      return readAlarms(connection, keys, until === Infinity ? "+inf" : String(until), parts.corrupt);
    },
    async secret() {
      const reply = await connection.send("secret", connection.script("secret", [keys.secret], [randomBytes(32).toString("base64url")]));
      return String(reply);
    },
  };
}

/** The alarms of every actor due at or before `until` ("+inf": all), earliest first. */
export async function readAlarms(connection: RedisConnection, keys: RedisKeys, until: string, corrupt: (id: string, error: unknown) => void): Promise<Alarm[]> {
  const reply = await connection.send("alarms", connection.script("alarms", [keys.alarms], [keys.metaPrefix, until], true));
  const flat: Reply[] = Array.isArray(reply) ? reply : [];
  const out: Alarm[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const id = String(flat[i]);
    const at = Number(String(flat[i + 1]));
    try {
      const meta = decodeMetaRecord(flat[i + 2] as Buffer);
      out.push({ id, name: meta.name, key: meta.key, at });
    } catch (error) {
      corrupt(id, error);
    }
  }
  return out;
}

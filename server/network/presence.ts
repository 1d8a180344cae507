/**
 * Presence of one actor: y-protocols awareness states relayed between its channels. The
 * server stamps every state with the identity it derives from `c.conn.auth` (a client
 * cannot claim to be someone else), lets a channel update only the awareness client ids it
 * introduced, and removes a channel's states when it leaves.
 *
 * Every update is checked whole before any of it is applied (an update that breaks a rule
 * changes nothing): each state is a JSON object or null, at most `maxPresenceStateBytes`
 * together with the identity the server stamps on it (an identity built from params could
 * otherwise make a few bytes of state relay megabytes to every member),
 * nesting at most MAX_VALUE_DEPTH (checked on the text, without recursion, so no state can
 * make the relay's JSON.stringify overflow); a channel holds at most `maxPresenceIdsPerChannel`
 * client ids, an actor at most `maxPresenceStatesPerActor` states and `maxPresenceBytesPerActor`
 * bytes of them.
 *
 * A removed client id leaves a tombstone bound to the client id (hello) of the socket that
 * owned it: only that client may bring it back (its reconnect, with a clock past the removal).
 * Another connection taking a departed user's id would be shown under it to every member
 * (cursors and authorship keyed by the Yjs client id) and would lock the owner out of its
 * own id when it returns. Tombstones are bounded (per owner, then per actor, oldest first).
 *
 * Relays are coalesced per event-loop turn: the states that changed during a turn go to each
 * member as one awareness update at the turn's end (turn-end.ts), not one per change — when
 * 200 editors join at once, each gets a few updates instead of 200. If a relay fails there,
 * the members whose changes it carried are failed (their channels close), not the process.
 *
 * The awareness update format and its codec: shared/protocol/awareness-update.ts.
 */
import * as decoding from "lib0/decoding";
import { InvalidArguments, MessageTooLarge, RateLimited } from "../../shared/errors.ts";
import { awarenessBody } from "../../shared/protocol/awareness.ts";
import { encodeAwarenessUpdate, readAwarenessCount, readAwarenessEntry } from "../../shared/protocol/awareness-update.ts";
import { Kind } from "../../shared/protocol/kinds.ts";
import { MAX_VALUE_DEPTH } from "../../shared/protocol/value.ts";
import { holdsProtoKey } from "../../shared/protocol/proto-keys.ts";
import { frameWithBody } from "./frames.ts";
import { jsonNestsDeeperThan } from "./json-depth.ts";
import type { Limits } from "./limits.ts";
import { runGuarded } from "./guard.ts";
import { atTurnEnd } from "./turn-end.ts";

export interface PresenceMember {
  readonly channel: number;
  /** The client id its socket said in hello: who may bring back its removed ids. */
  readonly clientId: string;
  /** What the server says this member is (from auth); stamped as `state.user`. */
  readonly identity: unknown;
  sendFrame(frame: Uint8Array): void;
  /** A relay carrying this member's changes failed (its channel logs and closes). */
  fail(error: unknown): void;
}

export type PresenceLimits = Pick<Limits, "maxPresenceStateBytes" | "maxPresenceIdsPerChannel" | "maxPresenceStatesPerActor" | "maxPresenceBytesPerActor">;

/** A state as relayed: what others are told about one awareness client id. */
interface Relayed {
  readonly clock: number;
  readonly state: Record<string, unknown> | null;
  readonly owner: PresenceMember;
}

interface Entry {
  /** The clock as the owner counts it (its updates must increase it). */
  ownClock: number;
  /** The clock relayed to others: also past any removal the server announced. */
  clock: number;
  state: Record<string, unknown> | null;
  /** UTF-8 bytes of the state's JSON as the client sent it (0 once removed). */
  bytes: number;
  owner: PresenceMember;
}

/** What is left of a removed client id: its last relayed clock and the client that owned it. */
interface Tombstone {
  readonly clock: number;
  readonly ownerClient: string;
}

/** A checked change of one client id, applied once the whole update passed. */
interface Change {
  readonly clientId: number;
  readonly clock: number;
  readonly state: Record<string, unknown> | null;
  readonly bytes: number;
}

/** Removed client ids remembered per actor (with their last relayed clock and owner). */
const MAX_TOMBSTONES = 10_000;
/** ...and per owning client, so one client's churn only pushes out its own. */
const MAX_TOMBSTONES_PER_CLIENT = 64;

export class Presence {
  private readonly entries = new Map<number, Entry>();
  private readonly owned = new Map<PresenceMember, Set<number>>();
  private readonly tombstones = new Map<number, Tombstone>();
  private readonly tombstonesOf = new Map<string, Set<number>>();
  private readonly identitySizes = new WeakMap<PresenceMember, { readonly identity: unknown; readonly bytes: number }>();
  private bytes = 0;
  readonly members = new Set<PresenceMember>();
  /** States changed during this turn, relayed at its end (a later change of an id wins). */
  private pending = new Map<number, Relayed>();
  /** The relay being sent at this turn's end (whose owners fail if it throws). */
  private flushing: Map<number, Relayed> | null = null;
  private scheduled = false;

  /**
   * Applies an awareness update from `member`, then relays the stamped states to the others.
   * Throws (a TandemError, nothing applied) if any state of the update breaks a rule.
   */
  apply(member: PresenceMember, update: Uint8Array, limits: PresenceLimits): void {
    const changes = this.check(member, update, limits);
    const changed: number[] = [];
    for (const change of changes.values()) {
      const current = this.entries.get(change.clientId);
      const before = current?.clock ?? this.tombstones.get(change.clientId)?.clock;
      const relayed = before === undefined ? change.clock : Math.max(change.clock, before + 1);
      this.forgetTombstone(change.clientId);
      this.bytes += change.bytes - (current?.bytes ?? 0);
      const stamped = change.state === null ? null : { ...change.state, user: member.identity };
      this.entries.set(change.clientId, { ownClock: change.clock, clock: relayed, state: stamped, bytes: change.bytes, owner: member });
      let ids = this.owned.get(member);
      if (ids === undefined) this.owned.set(member, (ids = new Set()));
      ids.add(change.clientId);
      changed.push(change.clientId);
    }
    if (changed.length > 0) this.relay(changed, member);
    for (const clientId of changed) if (this.entries.get(clientId)?.state === null) this.remove(clientId);
  }

  /** Decodes and checks a whole update against the rules and limits; changes nothing. */
  private check(member: PresenceMember, update: Uint8Array, limits: PresenceLimits): Map<number, Change> {
    const decoder = decoding.createDecoder(update);
    const changes = new Map<number, Change>();
    for (let count = readAwarenessCount(decoder); count > 0; count--) {
      const { clientID: clientId, clock, json } = readAwarenessEntry(decoder);
      // What is relayed is the state stamped with the member's identity: both count.
      const bytes = Buffer.byteLength(json) + this.identityBytes(member);
      if (bytes > limits.maxPresenceStateBytes) throw new MessageTooLarge(`An awareness state (with the identity the server adds) is limited to ${limits.maxPresenceStateBytes} bytes`);
      if (jsonNestsDeeperThan(json, MAX_VALUE_DEPTH)) throw new InvalidArguments(`An awareness state may nest at most ${MAX_VALUE_DEPTH} levels deep`);
      const current = this.entries.get(clientId);
      if (current !== undefined && current.owner !== member) throw new InvalidArguments(`Awareness client ${clientId} belongs to another connection`);
      const tombstone = this.tombstones.get(clientId);
      if (tombstone !== undefined && tombstone.ownerClient !== member.clientId) throw new InvalidArguments(`Awareness client ${clientId} belonged to another client`);
      let state: unknown;
      try {
        state = JSON.parse(json);
      } catch {
        throw new InvalidArguments("Awareness state is not JSON");
      }
      if (state !== null && (typeof state !== "object" || Array.isArray(state))) throw new InvalidArguments("Awareness state must be an object or null");
      if (holdsProtoKey(state)) throw new InvalidArguments(`"__proto__" is not allowed as a key in awareness states`);
      const earlier = changes.get(clientId)?.clock ?? current?.ownClock;
      if (earlier !== undefined && clock <= earlier) continue;
      // Removing a state the server does not hold tells nobody anything.
      if (state === null && current === undefined) {
        changes.delete(clientId);
        continue;
      }
      changes.delete(clientId); // re-inserted last: changes apply in the order they came
      changes.set(clientId, { clientId, clock, state: state as Record<string, unknown> | null, bytes: state === null ? 0 : bytes });
      // An update that fits changes at most the ids it holds plus the ids it may add: stop reading one that cannot.
      if (changes.size > (this.owned.get(member)?.size ?? 0) + limits.maxPresenceIdsPerChannel) throw this.tooManyIds(limits);
    }
    if (decoder.pos !== update.length) throw new InvalidArguments("Trailing bytes in the awareness update");
    this.checkRoom(member, changes, limits);
    return changes;
  }

  /** The states, ids and bytes the update would leave must fit the limits (or not grow). */
  private checkRoom(member: PresenceMember, changes: Map<number, Change>, limits: PresenceLimits): void {
    let ids = this.owned.get(member)?.size ?? 0;
    let states = this.entries.size;
    let bytes = this.bytes;
    for (const change of changes.values()) {
      const current = this.entries.get(change.clientId);
      bytes += change.bytes - (current?.bytes ?? 0);
      const held = current !== undefined && current.state !== null;
      if (change.state !== null && !held) {
        ids++;
        states++;
      } else if (change.state === null && held) {
        ids--;
        states--;
      }
    }
    if (ids > limits.maxPresenceIdsPerChannel && ids > (this.owned.get(member)?.size ?? 0)) throw this.tooManyIds(limits);
    if (states > limits.maxPresenceStatesPerActor && states > this.entries.size) {
      throw new RateLimited(`An actor holds at most ${limits.maxPresenceStatesPerActor} awareness states`);
    }
    if (bytes > limits.maxPresenceBytesPerActor && bytes > this.bytes) {
      throw new RateLimited(`An actor holds at most ${limits.maxPresenceBytesPerActor} bytes of awareness states`);
    }
  }

  /**
   * Bytes of the identity stamped on each of the member's states (its JSON), cached per
   * identity. One JSON cannot hold counts 0: relaying it fails that member's channel.
   */
  private identityBytes(member: PresenceMember): number {
    const cached = this.identitySizes.get(member);
    if (cached !== undefined && cached.identity === member.identity) return cached.bytes;
    let bytes = 0;
    try {
      bytes = Buffer.byteLength(JSON.stringify(member.identity) ?? "");
    } catch {
      bytes = 0;
    }
    this.identitySizes.set(member, { identity: member.identity, bytes });
    return bytes;
  }

  private tooManyIds(limits: PresenceLimits): RateLimited {
    return new RateLimited(`A connection may hold at most ${limits.maxPresenceIdsPerChannel} awareness client ids`);
  }

  /** Every known state, for a member that just joined. */
  snapshot(): Uint8Array | null {
    const ids = [...this.entries.keys()].filter((id) => this.entries.get(id)!.state !== null);
    return ids.length === 0 ? null : this.encode(ids);
  }

  /** The states held now (stamped with their identity), at most `max` (the inspector). */
  list(max: number): { readonly clientId: number; readonly state: Record<string, unknown> }[] {
    const out: { clientId: number; state: Record<string, unknown> }[] = [];
    for (const [clientId, entry] of this.entries) {
      if (out.length >= max) break;
      if (entry.state !== null) out.push({ clientId, state: entry.state });
    }
    return out;
  }

  /** How many states are held now. */
  get count(): number {
    return this.entries.size;
  }


  leave(member: PresenceMember): void {
    this.members.delete(member);
    const gone = [...(this.owned.get(member) ?? [])];
    for (const clientId of gone) {
      const entry = this.entries.get(clientId)!;
      entry.clock++;
      entry.state = null;
    }
    if (gone.length > 0) this.relay(gone, member);
    for (const clientId of gone) this.remove(clientId);
    this.owned.delete(member);
  }

  private remove(clientId: number): void {
    const entry = this.entries.get(clientId);
    if (entry === undefined) return;
    this.entries.delete(clientId);
    this.bytes -= entry.bytes;
    this.owned.get(entry.owner)?.delete(clientId);
    this.addTombstone(clientId, { clock: entry.clock, ownerClient: entry.owner.clientId });
  }

  private addTombstone(clientId: number, tombstone: Tombstone): void {
    let ofOwner = this.tombstonesOf.get(tombstone.ownerClient);
    if (ofOwner === undefined) this.tombstonesOf.set(tombstone.ownerClient, (ofOwner = new Set()));
    if (ofOwner.size >= MAX_TOMBSTONES_PER_CLIENT) this.forgetTombstone(ofOwner.values().next().value!);
    else if (this.tombstones.size >= MAX_TOMBSTONES) this.forgetTombstone(this.tombstones.keys().next().value!);
    this.tombstones.set(clientId, tombstone);
    ofOwner.add(clientId);
  }

  private forgetTombstone(clientId: number): void {
    const tombstone = this.tombstones.get(clientId);
    if (tombstone === undefined) return;
    this.tombstones.delete(clientId);
    const ofOwner = this.tombstonesOf.get(tombstone.ownerClient);
    ofOwner?.delete(clientId);
    if (ofOwner?.size === 0) this.tombstonesOf.delete(tombstone.ownerClient);
  }

  private relay(clientIds: number[], from: PresenceMember): void {
    for (const clientId of clientIds) {
      const entry = this.entries.get(clientId)!;
      this.pending.delete(clientId); // re-inserted last: the update lists states in change order
      this.pending.set(clientId, { clock: entry.clock, state: entry.state, owner: from });
    }
    if (!this.scheduled) {
      this.scheduled = true;
      atTurnEnd(this.flushRelays, this.relayFailed);
    }
  }

  /** At the turn's end: every member gets the turn's changes of states it does not own. */
  private readonly flushRelays = (): void => {
    this.scheduled = false;
    const pending = this.pending;
    if (pending.size === 0) return;
    this.pending = new Map();
    this.flushing = pending;
    const owners = new Set<PresenceMember>();
    for (const relayed of pending.values()) owners.add(relayed.owner);
    // Members that own none of the changes (nearly all) share one body, framed once per channel number.
    const shared = encodeStates([...pending]);
    const framed = new Map<number, Uint8Array>();
    for (const member of this.members) {
      if (!owners.has(member)) {
        let frame = framed.get(member.channel);
        if (frame === undefined) framed.set(member.channel, (frame = frameWithBody(Kind.awareness, member.channel, shared)));
        sendOrFail(member, frame);
        continue;
      }
      const others = [...pending].filter(([, relayed]) => relayed.owner !== member);
      if (others.length > 0) sendOrFail(member, frameWithBody(Kind.awareness, member.channel, encodeStates(others)));
    }
    this.flushing = null;
  };

  /** Building a relay threw at the turn's end: the members whose changes it carried go (their states with them). */
  private readonly relayFailed = (error: unknown): void => {
    this.scheduled = false;
    const failed = this.flushing ?? this.pending;
    this.flushing = null;
    if (failed === this.pending) this.pending = new Map();
    const owners = new Set<PresenceMember>();
    for (const relayed of failed.values()) owners.add(relayed.owner);
    for (const owner of owners) runGuarded(() => owner.fail(error));
  };

  /** An awareness frame body with the current states of `clientIds`. */
  private encode(clientIds: number[]): Uint8Array {
    return encodeStates(clientIds.map((clientId) => [clientId, this.entries.get(clientId)!]));
  }
}

/** A member whose send throws is failed on its own; the others still get the relay. */
function sendOrFail(member: PresenceMember, frame: Uint8Array): void {
  runGuarded(
    () => member.sendFrame(frame),
    (error) => member.fail(error),
  );
}

/** An awareness frame body (varUint8Array of the y-protocols update) with these states. */
function encodeStates(states: readonly (readonly [number, { readonly clock: number; readonly state: Record<string, unknown> | null }])[]): Uint8Array {
  return awarenessBody(encodeAwarenessUpdate(states.map(([clientID, { clock, state }]) => ({ clientID, clock, json: JSON.stringify(state) }))));
}

/** The identity shown to others: the config's `identity(auth)`, or well-known auth fields. */
export function identityOf(auth: unknown, identity?: (auth: never) => unknown): unknown {
  if (identity) return identity(auth as never);
  if (typeof auth !== "object" || auth === null) return null;
  const picked: Record<string, unknown> = {};
  for (const key of ["id", "userId", "name", "displayName", "color", "avatar"]) {
    if (key in auth) picked[key] = (auth as Record<string, unknown>)[key];
  }
  return picked;
}

/**
 * Presence of one actor: y-protocols awareness states relayed between its channels. The
 * server stamps every state with the identity it derives from `c.conn.auth` (a client
 * cannot claim to be someone else), lets a channel update only the awareness client ids it
 * introduced, and removes a channel's states when it leaves.
 *
 * Relays are coalesced per event-loop turn: the states that changed during a turn go to each
 * member as one awareness update at the turn's end (turn-end.ts), not one per change — when
 * 200 editors join at once, each gets a few updates instead of 200.
 *
 * Awareness update format (y-protocols): varuint count, then per state: varuint clientID,
 * varuint clock, varstring JSON (the string "null" removes the state).
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { InvalidArguments } from "../../shared/errors.ts";
import { Kind } from "../../shared/protocol/kinds.ts";
import { readLength, readString, readUint } from "../../shared/protocol/value.ts";
import { frameWithBody } from "./frames.ts";
import { atTurnEnd } from "./turn-end.ts";

export interface PresenceMember {
  readonly channel: number;
  /** What the server says this member is (from auth); stamped as `state.user`. */
  readonly identity: unknown;
  sendFrame(frame: Uint8Array): void;
}

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
  owner: PresenceMember;
}

/** Removed client ids remembered (with their last relayed clock) so a return outranks the removal. */
const MAX_TOMBSTONES = 10_000;

const MAX_STATE_BYTES = 64 * 1024;

export class Presence {
  private readonly entries = new Map<number, Entry>();
  private readonly tombstones = new Map<number, number>();
  readonly members = new Set<PresenceMember>();
  /** States changed during this turn, relayed at its end (a later change of an id wins). */
  private pending = new Map<number, Relayed>();
  private scheduled = false;

  /** Applies an awareness update from `member`, then relays the stamped states to the others. */
  apply(member: PresenceMember, update: Uint8Array): void {
    const decoder = decoding.createDecoder(update);
    const changed: number[] = [];
    for (let count = readLength(decoder); count > 0; count--) {
      const clientId = readUint(decoder);
      const clock = readUint(decoder);
      const json = readString(decoder);
      if (json.length > MAX_STATE_BYTES) throw new InvalidArguments("Awareness state too large");
      const current = this.entries.get(clientId);
      if (current !== undefined && current.owner !== member) throw new InvalidArguments(`Awareness client ${clientId} belongs to another connection`);
      if (current !== undefined && clock <= current.ownClock) continue;
      let state: unknown;
      try {
        state = JSON.parse(json);
      } catch {
        throw new InvalidArguments("Awareness state is not JSON");
      }
      if (state !== null && (typeof state !== "object" || Array.isArray(state))) throw new InvalidArguments("Awareness state must be an object or null");
      const stamped = state === null ? null : { ...(state as Record<string, unknown>), user: member.identity };
      const before = current?.clock ?? this.tombstones.get(clientId);
      const relayed = before === undefined ? clock : Math.max(clock, before + 1);
      this.tombstones.delete(clientId);
      this.entries.set(clientId, { ownClock: clock, clock: relayed, state: stamped, owner: member });
      changed.push(clientId);
    }
    if (decoder.pos !== update.length) throw new InvalidArguments("Trailing bytes in the awareness update");
    if (changed.length > 0) this.relay(changed, member);
    for (const clientId of changed) if (this.entries.get(clientId)?.state === null) this.remove(clientId);
  }

  /** Every known state, for a member that just joined. */
  snapshot(): Uint8Array | null {
    const ids = [...this.entries.keys()].filter((id) => this.entries.get(id)!.state !== null);
    return ids.length === 0 ? null : this.encode(ids);
  }

  /** A member left: its states are removed everywhere. */
  leave(member: PresenceMember): void {
    this.members.delete(member);
    const gone: number[] = [];
    for (const [clientId, entry] of this.entries) {
      if (entry.owner !== member) continue;
      entry.clock++;
      entry.state = null;
      gone.push(clientId);
    }
    if (gone.length > 0) this.relay(gone, member);
    for (const clientId of gone) this.remove(clientId);
  }

  private remove(clientId: number): void {
    const entry = this.entries.get(clientId);
    if (entry === undefined) return;
    this.entries.delete(clientId);
    if (this.tombstones.size >= MAX_TOMBSTONES) this.tombstones.delete(this.tombstones.keys().next().value!);
    this.tombstones.set(clientId, entry.clock);
  }

  private relay(clientIds: number[], from: PresenceMember): void {
    for (const clientId of clientIds) {
      const entry = this.entries.get(clientId)!;
      this.pending.delete(clientId); // re-inserted last: the update lists states in change order
      this.pending.set(clientId, { clock: entry.clock, state: entry.state, owner: from });
    }
    if (!this.scheduled) {
      this.scheduled = true;
      atTurnEnd(this.flushRelays);
    }
  }

  /** At the turn's end: every member gets the turn's changes of states it does not own. */
  private readonly flushRelays = (): void => {
    this.scheduled = false;
    const pending = this.pending;
    if (pending.size === 0) return;
    this.pending = new Map();
    const owners = new Set<PresenceMember>();
    for (const relayed of pending.values()) owners.add(relayed.owner);
    // Members that own none of the changes (nearly all) share one body, framed once per channel number.
    const shared = encodeStates([...pending]);
    const framed = new Map<number, Uint8Array>();
    for (const member of this.members) {
      if (!owners.has(member)) {
        let frame = framed.get(member.channel);
        if (frame === undefined) framed.set(member.channel, (frame = frameWithBody(Kind.awareness, member.channel, shared)));
        member.sendFrame(frame);
        continue;
      }
      const others = [...pending].filter(([, relayed]) => relayed.owner !== member);
      if (others.length > 0) member.sendFrame(frameWithBody(Kind.awareness, member.channel, encodeStates(others)));
    }
  };

  /** An awareness frame body with the current states of `clientIds`. */
  private encode(clientIds: number[]): Uint8Array {
    return encodeStates(clientIds.map((clientId) => [clientId, this.entries.get(clientId)!]));
  }
}

/** An awareness frame body (varUint8Array of the y-protocols update) with these states. */
function encodeStates(states: readonly (readonly [number, { readonly clock: number; readonly state: Record<string, unknown> | null }])[]): Uint8Array {
  const update = encoding.createEncoder();
  encoding.writeVarUint(update, states.length);
  for (const [clientId, { clock, state }] of states) {
    encoding.writeVarUint(update, clientId);
    encoding.writeVarUint(update, clock);
    encoding.writeVarString(update, JSON.stringify(state));
  }
  const body = encoding.createEncoder();
  encoding.writeVarUint8Array(body, encoding.toUint8Array(update));
  return encoding.toUint8Array(body);
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

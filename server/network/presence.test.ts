/**
 * Presence relays at a turn's end never throw out of the event loop (README.md "Security model"): a
 * member whose send throws is failed alone, and a relay that cannot be built (an identity
 * JSON cannot hold, from the app's `identity()`) fails the members whose changes it carried.
 */
import { expect, test } from "vitest";
import { encodeAwarenessUpdate } from "../../shared/protocol/awareness-update.ts";
import { recordUncaught } from "../../tests/support/uncaught.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { Presence, type PresenceMember } from "./presence.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const uncaught = recordUncaught();

function member(clientId: string, identity: unknown = { userId: clientId }): PresenceMember & { frames: Uint8Array[]; failures: unknown[] } {
  const frames: Uint8Array[] = [];
  const failures: unknown[] = [];
  return {
    channel: 1,
    clientId,
    identity,
    frames,
    failures,
    sendFrame(frame) {
      frames.push(frame);
    },
    fail(error) {
      failures.push(error);
    },
  };
}

/** An awareness update with one state. */
function update(clientID: number, clock: number, state: unknown): Uint8Array {
  return encodeAwarenessUpdate([{ clientID, clock, json: JSON.stringify(state) }]);
}

test("a member whose send throws is failed alone; the others get the relay", async () => {
  const presence = new Presence();
  const writer = member("w");
  const before = member("a");
  const broken = member("b");
  broken.sendFrame = () => {
    throw new Error("socket gone");
  };
  const after = member("c");
  for (const m of [writer, before, broken, after]) presence.members.add(m);
  presence.apply(writer, update(1, 1, { cursor: 1 }), DEFAULT_LIMITS);
  await nextTurn();
  await nextTurn();
  expect(before.frames).toHaveLength(1);
  expect(after.frames).toHaveLength(1);
  expect(broken.failures.map(String)).toEqual(["Error: socket gone"]);
  expect(writer.failures).toEqual([]);
  expect(uncaught).toEqual([]);
});

test("a relay that cannot be encoded fails the members whose changes it carried, not the process", async () => {
  const presence = new Presence();
  const odd = member("odd", { id: 10n }); // JSON.stringify throws on a bigint
  const fine = member("fine");
  const reader = member("reader");
  for (const m of [odd, fine, reader]) presence.members.add(m);
  presence.apply(odd, update(1, 1, { cursor: 1 }), DEFAULT_LIMITS);
  await nextTurn();
  await nextTurn();
  expect(odd.failures).toHaveLength(1);
  expect(fine.failures).toEqual([]);
  expect(uncaught).toEqual([]);
  // The channel of the failed member leaves (as ActorChannel.fail does): relays go on for the rest.
  presence.leave(odd);
  presence.apply(fine, update(2, 1, { cursor: 2 }), DEFAULT_LIMITS);
  for (let i = 0; i < 3 && reader.frames.length === 0; i++) await nextTurn();
  expect(reader.frames.length).toBeGreaterThan(0);
  expect(uncaught).toEqual([]);
});

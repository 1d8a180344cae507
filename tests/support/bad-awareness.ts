/**
 * Generated awareness (presence) updates a hostile member sends: deep and huge states, many
 * client ids, states that are not objects, text that is not JSON, garbage and truncated
 * bytes, a claim on another member's id, `__proto__` keys. Each case says whether a server
 * must accept it (relay it to others) or refuse it (an error, nothing relayed).
 */
import { allStatesWellFormed, decodeAwarenessUpdate, encodeAwarenessUpdate, type AwarenessEntry } from "./awareness-wire.ts";
import { FRAME_LIMIT, deepJson, depth, logUniform, randomBytes, size, verdictForDepth, type Verdict } from "./fuzz-shapes.ts";
import type { Random } from "./random.ts";

export interface AwarenessCase {
  readonly what: string;
  readonly update: Uint8Array;
  readonly verdict: Verdict;
  /** Client ids this case introduced, to remove afterwards if they were accepted. */
  readonly introduced: readonly number[];
}

export interface AwarenessAuthor {
  /** The awareness client id this member uses for its own state. */
  readonly own: number;
  /** An id another member owns. */
  readonly other: number;
  /** The next clock for `own` (always increasing). */
  nextClock(): number;
}

/** Largest awareness state a well-behaved member sends; anything past 64 KB is over the server's limit. */
const ACCEPT_STATE_BYTES = 4096;
const REJECT_STATE_BYTES = 64 * 1024;
/** Room for the frame header and the update's own fields. */
const MAX_BODY = FRAME_LIMIT - 4096;

/** Garbage is refused unless it happens to decode as a well-formed update (then either is fine). */
function verdictForBytes(bytes: Uint8Array): Verdict {
  const entries = decodeAwarenessUpdate(bytes);
  return entries !== null && allStatesWellFormed(entries) ? "either" : "reject";
}

/** How many kinds of case there are (`kind` is one of 0..AWARENESS_KINDS-1; 1 is a state nested past any limit, 2 one of any depth). */
export const AWARENESS_KINDS = 11;

export function awarenessCase(rng: Random, kind: number, author: AwarenessAuthor, marker: number): AwarenessCase {
  const own = (json: string): AwarenessEntry[] => [{ clientId: author.own, clock: author.nextClock(), json }];
  const single = (what: string, json: string, verdict: Verdict): AwarenessCase => ({ what, update: encodeAwarenessUpdate(own(json)), verdict, introduced: [] });
  switch (kind) {
    case 0:
      return single("small state", JSON.stringify({ m: marker, cursor: rng.int(1000), name: rng.string(40) }), "accept");
    case 1:
    case 2: {
      const levels = depth(rng, kind === 1);
      const shape = rng.pick(["object", "array"] as const);
      return single(`state nested ${levels} deep (${shape}s)`, `{"m":${marker},"d":${deepJson(levels, shape)}}`, verdictForDepth(levels + 1));
    }
    case 3: {
      const length = size(rng, MAX_BODY - 64);
      const json = `{"m":${marker},"s":"${"x".repeat(length)}"}`;
      const verdict: Verdict = json.length <= ACCEPT_STATE_BYTES ? "accept" : json.length > REJECT_STATE_BYTES ? "reject" : "either";
      return single(`state of ${json.length} bytes`, json, verdict);
    }
    case 4: {
      // Many client ids in one update, each with a small state (fresh ids: none is owned yet).
      const count = logUniform(rng, 10_000);
      const base = 50_000_000 + marker * 30_000;
      const entries = Array.from({ length: count }, (_, i) => ({ clientId: base + i, clock: 1, json: `{"m":${marker}}` }));
      return { what: `${count} client ids in one update`, update: encodeAwarenessUpdate(entries), verdict: "either", introduced: entries.map((e) => e.clientId) };
    }
    case 5: {
      const json = rng.pick(["1", '"a string"', "[1,2]", "[]", "true", "-0", "1e999", "0.5"]);
      return single(`a state that is not an object (${json})`, json, "reject");
    }
    case 6: {
      const json = rng.pick(["{", "{'a':1}", '{"a":}', rng.string(30), "nul", '{"a":1}}', "\u0000", ""]);
      return single(`a state that is not JSON (${JSON.stringify(json)})`, json, "reject");
    }
    case 7: {
      const bytes = randomBytes(rng, size(rng, MAX_BODY));
      return { what: `${bytes.length} garbage bytes`, update: bytes, verdict: verdictForBytes(bytes), introduced: [] };
    }
    case 8: {
      const whole = encodeAwarenessUpdate(own(JSON.stringify({ m: marker, pad: "p".repeat(rng.int(200)) })));
      const cut = whole.slice(0, rng.int(whole.length));
      return { what: `an update truncated to ${cut.length} of ${whole.length} bytes`, update: cut, verdict: verdictForBytes(cut), introduced: [] };
    }
    case 9: {
      const json = rng.pick([
        `{"m":${marker},"__proto__":{"polluted":1}}`,
        `{"m":${marker},"constructor":{"prototype":{"polluted":1}}}`,
        `{"m":${marker},"user":{"__proto__":{"polluted":1}},"toString":1}`,
      ]);
      return single("a state with __proto__ / constructor keys", json, "either");
    }
    default: {
      // Another member's id: a state for it, or its removal.
      const json = rng.bool() ? `{"m":${marker}}` : "null";
      return { what: `a ${json === "null" ? "removal" : "state"} for another member's client id`, update: encodeAwarenessUpdate([{ clientId: author.other, clock: 1_000_000 + marker, json }]), verdict: "reject", introduced: [] };
    }
  }
}

/** Removes states a case introduced (clock 2: after the clock 1 they were set with). */
export function removal(clientIds: readonly number[]): Uint8Array {
  return encodeAwarenessUpdate(clientIds.map((clientId) => ({ clientId, clock: 2, json: "null" })));
}

/**
 * Generated direct edits (Yjs updates) a `canEdit` connection sends, built on the actor's
 * current state: text inserts up to just under the frame limit (fine), nested maps and
 * arrays 1..10,000 deep, garbage and truncated bytes, an update with a Skip struct, one
 * client's structs listed twice, references to items the actor never had, subdocuments,
 * XML types (which the state model does read: either answer), `__proto__` keys, writes
 * outside the state root, deletes of unknown items, empty structs and empty delete ranges.
 */
import * as encoding from "lib0/encoding";
import * as Y from "yjs";
import { STATE_ROOT } from "../../shared/state/index.ts";
import { FRAME_LIMIT, depth, logUniform, randomBytes, size, verdictForDepth, type Verdict } from "./fuzz-shapes.ts";
import type { Random } from "./random.ts";

export interface EditCase {
  readonly what: string;
  readonly update: Uint8Array;
  readonly verdict: Verdict;
}

/** Room for the edit frame's header. */
const MAX_UPDATE = FRAME_LIMIT - 4096;

/** A replica of the actor's state (from a full-state update) whose next transaction's update is kept. */
function fork(snapshot: Uint8Array): { doc: Y.Doc; state: Y.Map<unknown>; edit(change: () => void): Uint8Array } {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, snapshot);
  return {
    doc,
    state: doc.getMap(STATE_ROOT),
    edit(change) {
      const before = Y.encodeStateVector(doc);
      doc.transact(change);
      return Y.encodeStateAsUpdate(doc, before);
    },
  };
}

function textOf(state: Y.Map<unknown>): Y.Text {
  return state.get("text") as Y.Text;
}

function notesOf(state: Y.Map<unknown>): Y.Map<unknown> {
  return state.get("notes") as Y.Map<unknown>;
}

/** Garbage is refused unless Yjs can decode it (then either answer is fine). */
function verdictForBytes(bytes: Uint8Array): Verdict {
  try {
    Y.decodeUpdate(bytes);
    return "either";
  } catch {
    return "reject";
  }
}

/** Three updates of one fresh client, one character each, in order. */
function threeInserts(snapshot: Uint8Array): Uint8Array[] {
  const { doc, state } = fork(snapshot);
  const updates: Uint8Array[] = [];
  doc.on("update", (update: Uint8Array) => updates.push(update));
  const text = textOf(state);
  for (const char of "abc") text.insert(0, char);
  return updates;
}

/**
 * The body of a one-client update with no deletes ([1][structs of that client][0]), so two
 * can be listed as one update with the same client twice.
 */
function clientSection(update: Uint8Array): Uint8Array {
  if (update[0] !== 1 || update[update.length - 1] !== 0) throw new Error("expected one client and no deletes");
  return update.subarray(1, update.length - 1);
}

/** How many kinds of case there are (`kind` is one of 0..EDIT_KINDS-1; text counts twice; 2 nests past any limit, 3 to any depth). */
export const EDIT_KINDS = 13;

export function editCase(rng: Random, kind: number, snapshot: Uint8Array, marker: number): EditCase {
  switch (kind) {
    case 0:
    case 1: {
      const { state, edit } = fork(snapshot);
      const length = rng.bool(0.1) ? size(rng, MAX_UPDATE - 1024) : logUniform(rng, 2048);
      const text = textOf(state);
      const update = edit(() => text.insert(rng.int(text.length + 1), "t".repeat(length)));
      return { what: `a text insert of ${length} characters`, update, verdict: "accept" };
    }
    case 2:
    case 3: {
      const levels = depth(rng, kind === 2);
      const shape = rng.pick(["map", "array"] as const);
      const { state, edit } = fork(snapshot);
      const update = edit(() => {
        if (shape === "map") {
          let map = new Y.Map<unknown>();
          notesOf(state).set(`deep-${marker}`, map);
          for (let i = 1; i < levels; i++) {
            const child = new Y.Map<unknown>();
            map.set("a", child);
            map = child;
          }
          map.set("leaf", 1);
        } else {
          let array = new Y.Array<unknown>();
          notesOf(state).set(`deep-${marker}`, array);
          for (let i = 1; i < levels; i++) {
            const child = new Y.Array<unknown>();
            array.push([child]);
            array = child;
          }
          array.push([1]);
        }
      });
      // state → notes → levels of the value.
      return { what: `a Y.${shape === "map" ? "Map" : "Array"} nested ${levels} deep in the state`, update, verdict: verdictForDepth(levels + 2) };
    }
    case 4: {
      const bytes = randomBytes(rng, size(rng, MAX_UPDATE));
      return { what: `${bytes.length} garbage bytes`, update: bytes, verdict: verdictForBytes(bytes) };
    }
    case 5: {
      const { state, edit } = fork(snapshot);
      const whole = edit(() => {
        textOf(state).insert(0, "truncated ".repeat(1 + rng.int(50)));
        notesOf(state).set(`t-${marker}`, rng.int(100));
      });
      const cut = whole.slice(0, 1 + rng.int(whole.length - 1));
      return { what: `an update truncated to ${cut.length} of ${whole.length} bytes`, update: cut, verdict: verdictForBytes(cut) };
    }
    case 6: {
      const [first, , third] = threeInserts(snapshot);
      return { what: "an update with a Skip struct (a client's clocks 0 and 2, not 1)", update: Y.mergeUpdates([first!, third!]), verdict: "reject" };
    }
    case 7: {
      const [first, second] = threeInserts(snapshot);
      const sections = rng.bool() ? [first!, second!] : [second!, first!];
      const update = new Uint8Array([2, ...clientSection(sections[0]!), ...clientSection(sections[1]!), 0]);
      return { what: "an update listing the same client twice", update, verdict: "reject" };
    }
    case 8: {
      // Items after ones the actor never got (a ghost client's text), or deletes of them.
      const { state, doc } = fork(snapshot);
      const text = textOf(state);
      text.insert(0, "ghost");
      const updates: Uint8Array[] = [];
      doc.on("update", (update: Uint8Array) => updates.push(update));
      if (rng.bool()) text.insert(3, "after");
      else text.delete(1, 2);
      return { what: "an update referring to items the actor does not have", update: updates[0]!, verdict: "reject" };
    }
    case 9: {
      const { state, edit } = fork(snapshot);
      const update = edit(() => notesOf(state).set(`sub-${marker}`, new Y.Doc()));
      return { what: "a subdocument in the state", update, verdict: "reject" };
    }
    case 10: {
      const { state, edit } = fork(snapshot);
      const xml = rng.pick(["element", "text", "fragment"] as const);
      const padding = "x".repeat(rng.bool(0.2) ? size(rng, MAX_UPDATE - 1024) : rng.int(64));
      const update = edit(() => {
        if (xml === "element") {
          const element = new Y.XmlElement("p");
          notesOf(state).set(`xml-${marker}`, element);
          element.setAttribute("pad", padding);
        } else if (xml === "text") {
          const text = new Y.XmlText();
          notesOf(state).set(`xml-${marker}`, text);
          text.insert(0, padding);
        } else {
          notesOf(state).set(`xml-${marker}`, new Y.XmlFragment());
        }
      });
      // The state model reads XML types (rich-text editors): either answer, but the state stays readable.
      return { what: `a Y.Xml${xml[0]!.toUpperCase()}${xml.slice(1)} (${padding.length} bytes) in the state`, update, verdict: "either" };
    }
    case 12:
      return emptyStructCase(rng, marker);
    default: {
      const { doc, state, edit } = fork(snapshot);
      const how = rng.int(3);
      if (how === 0) return { what: "a __proto__ key in the state", update: edit(() => state.set("__proto__", 1)), verdict: "reject" };
      if (how === 1) return { what: "a __proto__ key in a nested map", update: edit(() => notesOf(state).set("__proto__", { polluted: 1 })), verdict: "reject" };
      return { what: "a write outside the state root", update: edit(() => doc.getMap(`elsewhere-${marker}`).set("x", 1)), verdict: "reject" };
    }
  }
}

/**
 * What Yjs never writes and breaks on: an empty struct (a GC, or an item of no characters) or
 * an empty delete range. Before the check refused them, an empty GC left a document no
 * replica could read and an empty delete range made the apply throw (the actor restarted).
 */
function emptyStructCase(rng: Random, marker: number): EditCase {
  const client = 1_000_000 + marker;
  const encoder = encoding.createEncoder();
  const how = rng.int(3);
  if (how === 2) {
    encoding.writeVarUint(encoder, 0); // no structs
    encoding.writeVarUint(encoder, 1); // deletes of one client
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, 0);
    encoding.writeVarUint(encoder, 0); // of length 0
    return { what: "an empty delete range", update: encoding.toUint8Array(encoder), verdict: "reject" };
  }
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, client);
  encoding.writeVarUint(encoder, 0);
  if (how === 0) {
    encoding.writeUint8(encoder, 0); // GC
    encoding.writeVarUint(encoder, 0); // of length 0
  } else {
    encoding.writeUint8(encoder, 4 | 0x20); // a string item with a key
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarString(encoder, STATE_ROOT);
    encoding.writeVarString(encoder, `empty-${marker}`);
    encoding.writeVarString(encoder, "");
  }
  encoding.writeVarUint(encoder, 0); // no deletes
  return { what: how === 0 ? "an empty GC struct" : "an empty string item", update: encoding.toUint8Array(encoder), verdict: "reject" };
}

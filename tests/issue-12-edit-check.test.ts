/**
 * Issue 12, items 6 and 8 (content types): a direct edit that Yjs could not integrate whole
 * (a Skip struct, a client twice, references to items nobody has or that could only come
 * later) or that writes what the state model cannot read (a subdocument, an XML element in
 * an object, an XML hook, a text embed, types nested too deep) is refused by the edit check
 * with invalid_arguments, before it touches the document: the editor gets the error, no
 * other connection is dropped, the actor is not restarted, and reads keep working.
 */
import { expect, test } from "vitest";
import { encodeGroups } from "./support/crafted-updates.ts";
import * as Y from "yjs";
import { actor, setup } from "tandem";
import type { ServerLogger } from "tandem/server";
import { waitFor } from "./seed-helpers.ts";
import { Kind } from "../shared/protocol/index.ts";
import { MAX_STATE_DEPTH } from "../shared/state/index.ts";
import { useNetwork } from "./support/raw-socket.ts";

const counts = { starts: 0 };

const pad = actor({
  state: { map: {} as Record<string, unknown>, text: new Y.Text(""), xml: new Y.XmlFragment() },
  onStart: () => {
    counts.starts++;
  },
  canEdit: () => true,
  actions: {
    read: (c) => ({ keys: Object.keys(c.state.map), text: c.state.text.toString(), xml: c.state.xml.toString() }),
    set: (c, key: string, value: number) => {
      c.state.map[key] = value;
    },
  },
});

const registry = setup({ use: { pad } });
type R = typeof registry;

const net = useNetwork();


/** The structs of an update (decoded, each a fresh object that can be changed and re-encoded). */
function structsOf(update: Uint8Array): (Y.Item | Y.GC)[] {
  return Y.decodeUpdate(update).structs as (Y.Item | Y.GC)[];
}

/** A replica of the actor's state from `step2`, and a way to take what changed in it as one update. */
function replica(step2: Uint8Array, clientID: number) {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  Y.applyUpdate(doc, step2);
  const state = doc.getMap("state");
  return {
    doc,
    state,
    text: state.get("text") as Y.Text,
    map: state.get("map") as Y.Map<unknown>,
    xml: state.get("xml") as Y.XmlFragment,
    /** The update of what `change` does. */
    diff(change: () => void): Uint8Array {
      const before = Y.encodeStateVector(doc);
      change();
      return Y.encodeStateAsUpdate(doc, before);
    },
  };
}

test("crafted edits are refused with invalid_arguments; the editor is answered, nobody is dropped, the actor keeps running", async () => {
  counts.starts = 0;
  const internal: string[] = [];
  const noop = () => {};
  const logger: ServerLogger = { debug: noop, info: noop, warn: noop, error: (obj, msg) => internal.push(`${msg}: ${String((obj as { err?: unknown })?.err ?? "")}`), child: () => logger };
  const server = await net.server(registry, { logger });
  const client = net.client<R>(server.url);
  const watcher = client.pad.getOrCreate("p").connect();
  await watcher.whenSynced();
  const statuses: string[] = [];
  watcher.onStatus((status) => statuses.push(status));
  const raw = await net.raw(server.url);
  await raw.hello();
  const { step2 } = await raw.subscribe(1, "pad", "p");

  const cases: [string, Uint8Array][] = [];
  // Client 1001 writes three times; the actor will have only the first (sent below as a good edit).
  const a = replica(step2.data, 1001);
  const first = a.diff(() => a.text.insert(0, "one "));
  const second = a.diff(() => a.text.insert(4, "two "));
  const third = a.diff(() => a.text.insert(8, "three"));
  // Skip struct: first and third merged, second missing (mergeUpdates writes a Skip).
  const skip = Y.mergeUpdates([first, third]);
  expect(structsOf(skip).some((s) => s instanceof Y.Skip)).toBe(true);
  cases.push(["a Skip struct", skip]);
  // The same client twice: second's and third's runs as two groups of one update.
  cases.push(["a client twice", encodeGroups([structsOf(second), structsOf(third)])]);
  cases.push(["a client twice, later run first", encodeGroups([structsOf(third), structsOf(second)])]);
  // References to items nobody has: an origin far beyond client 1002's clock.
  const b = replica(step2.data, 1002);
  const orphan = structsOf(b.diff(() => b.text.insert(0, "x")))[0] as Y.Item;
  orphan.origin = Y.createID(4242, 10);
  cases.push(["an origin nobody has", encodeGroups([[orphan]])]);
  // Items the actor has already (client 1001's first edit, sent below before the cases), sent
  // again with a reference nobody has: Yjs looks at what an item refers to before it skips an
  // item it has, and parks it (found by the socket fuzz, seed 63: a mutated parent id).
  for (const field of ["origin", "rightOrigin", "parent"] as const) {
    const known = structsOf(first)[0] as Y.Item;
    if (field === "parent") known.parent = Y.createID(4243, 1);
    else known[field] = Y.createID(4243, 10);
    cases.push([`a known item re-sent with a ${field} nobody has`, encodeGroups([[known]])]);
  }
  // Two clients referring to each other's items (only ever resolvable in a cycle).
  const ca = replica(step2.data, 2001);
  const cb = replica(step2.data, 2002);
  const itemA = structsOf(ca.diff(() => ca.text.insert(0, "a")))[0] as Y.Item;
  const itemB = structsOf(cb.diff(() => cb.text.insert(0, "b")))[0] as Y.Item;
  itemA.origin = Y.createID(2002, 0);
  itemB.origin = Y.createID(2001, 0);
  cases.push(["a reference cycle between clients", encodeGroups([[itemA], [itemB]])]);
  // A forward reference within one client.
  const f = replica(step2.data, 3001);
  const forward = structsOf(f.diff(() => f.text.insert(0, "ab")));
  const fwd = forward[0] as Y.Item;
  fwd.origin = Y.createID(3001, 5);
  cases.push(["a forward reference within a client", encodeGroups([[fwd]])]);
  // An item whose parent is a string item, not a type.
  const s = replica(step2.data, 3002);
  const notType = structsOf(s.diff(() => s.text.insert(0, "z")))[0] as Y.Item;
  notType.origin = null;
  notType.rightOrigin = null;
  notType.parent = Y.createID(1001, 0); // client 1001's "one " (a string), once the good edit is in
  notType.parentSub = null;
  cases.push(["a parent that is not a type", encodeGroups([[notType]])]);
  cases.push(["garbage bytes", new Uint8Array([0xff, 0x01, 0x02, 0x03, 0x04])]);
  // Content the state model cannot read.
  const m = replica(step2.data, 4001);
  cases.push(["a subdocument", m.diff(() => m.map.set("sub", new Y.Doc()))]);
  cases.push(["an XML element in an object", m2(step2.data, (r) => r.map.set("el", new Y.XmlElement("p")))]);
  cases.push(["an XML text in an object", m2(step2.data, (r) => r.map.set("xt", new Y.XmlText("t")))]);
  cases.push(["an XML hook", m2(step2.data, (r) => r.map.set("hook", new Y.XmlHook("h")))]);
  cases.push(["a text embed", m2(step2.data, (r) => r.text.insertEmbed(0, { image: "x.png" }))]);
  cases.push(["a type embedded in a text", m2(step2.data, (r) => r.text.insertEmbed(0, new Y.Map()))]);
  cases.push(["a map inside an XML fragment", m2(step2.data, (r) => r.xml.insert(0, [new Y.Map() as never]))]);
  cases.push([
    `a JSON value nested deeper than ${MAX_STATE_DEPTH}`,
    m2(step2.data, (r) => {
      let value: unknown = 1;
      for (let i = 0; i < MAX_STATE_DEPTH + 1; i++) value = [value];
      r.map.set("deepValue", value);
    }),
  ]);
  cases.push([
    `maps nested deeper than ${MAX_STATE_DEPTH}`,
    m2(step2.data, (r) => {
      let map = r.map;
      for (let i = 0; i < MAX_STATE_DEPTH + 2; i++) {
        const next = new Y.Map<unknown>();
        map.set("d", next);
        map = next;
      }
    }),
  ]);

  // The good first edit goes in (so later cases build on an actor that has client 1001:0..3).
  const good = await raw.edit(1, 1, first);
  expect(good.ok).toBe(true);
  let id = 2;
  for (const [what, update] of cases) {
    const answer = await raw.edit(1, id++, update);
    expect({ what, ok: answer.ok, code: answer.ok ? null : answer.error.code }).toEqual({ what, ok: false, code: "invalid_arguments" });
  }
  // A good edit after all of them, and a read.
  const after = replica(step2.data, 1001);
  Y.applyUpdate(after.doc, first);
  const ok = await raw.edit(1, id++, after.diff(() => after.map.set("fine", 1)));
  expect(ok.ok).toBe(true);
  const read = await server.client.pad.get("p").read();
  expect(read).toEqual({ keys: ["fine"], text: "one ", xml: "" });
  await watcher.set("n", 1);
  await waitFor(() => watcher.state?.map.n === 1 && watcher.state?.map.fine === 1, { what: "the watcher to follow" });
  // Nobody was dropped, the actor never restarted, nothing was logged as internal.
  expect(statuses).toEqual([]);
  expect(raw.all(Kind.unsubscribed)).toEqual([]);
  expect(raw.isOpen).toBe(true);
  expect(counts.starts).toBe(1);
  expect(internal).toEqual([]);
});

/** The update of `change` on a fresh replica (client 5000+). */
let nextClient = 5000;
function m2(step2: Uint8Array, change: (r: ReturnType<typeof replica>) => void): Uint8Array {
  const r = replica(step2, nextClient++);
  return r.diff(() => change(r));
}

test("edits of XML fragments that the state model holds are accepted", async () => {
  const server = await net.server(registry);
  const raw = await net.raw(server.url);
  await raw.hello();
  const { step2 } = await raw.subscribe(1, "pad", "p");
  const r = replica(step2.data, 7001);
  const update = r.diff(() => {
    const p = new Y.XmlElement("p");
    p.setAttribute("class", "lead");
    p.insert(0, [new Y.XmlText("hello")]);
    r.xml.insert(0, [p]);
    r.text.insert(0, "hi");
    r.text.format(0, 2, { bold: true });
  });
  expect((await raw.edit(1, 1, update)).ok).toBe(true);
  expect(await server.client.pad.get("p").read()).toEqual({ keys: [], text: "hi", xml: '<p class="lead">hello</p>' });
});

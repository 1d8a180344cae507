/**
 * The edit check's promise, as a seeded property: whatever it accepts, Yjs integrates whole
 * (no exception, nothing parked in pendingStructs / pendingDs) and the state stays readable
 * by the state model. Edits are real updates of a replica (texts, objects, arrays, XML)
 * mutated at random: origins, right origins and parents pointed elsewhere, parents dropped,
 * groups split, duplicated, reordered or cut. Re-run one with SEED=<n>; SEEDS=<n> for more.
 */
import { expect, test } from "vitest";
import { encodeGroups } from "../../tests/support/crafted-updates.ts";
import * as Y from "yjs";
import { STATE_ROOT, stateToJSON } from "../../shared/state/index.ts";
import { random, seeds, type Random } from "../../tests/support/random.ts";
import { checkEditUpdates } from "./edit-check.ts";

type Struct = Y.Item | Y.GC;


/** A random legitimate change of a replica: text, object, array and XML edits. */
function change(r: Random, doc: Y.Doc): void {
  const root = doc.getMap(STATE_ROOT);
  // Accepted crafted edits may have replaced a key with anything: bring the types back.
  const typed = <T extends Y.AbstractType<any>>(key: string, ctor: new () => T): T => {
    const value = root.get(key);
    if (value instanceof ctor) return value;
    const fresh = new ctor();
    root.set(key, fresh);
    return fresh;
  };
  const text = typed("text", Y.Text);
  const list = typed("list", Y.Array<unknown>);
  const xml = typed("xml", Y.XmlFragment);
  switch (r.int(6)) {
    case 0:
      text.insert(r.int(text.length + 1), r.string(4));
      break;
    case 1:
      if (text.length > 0) text.delete(r.int(text.length), 1);
      else text.insert(0, "a");
      break;
    case 2:
      root.set(r.pick(["a", "b", "c"]), r.bool() ? r.int(9) : new Y.Map([["n", r.int(9)]]));
      break;
    case 3:
      list.insert(r.int(list.length + 1), [r.int(99), r.string(3)]);
      break;
    case 4:
      if (list.length > 0) list.delete(r.int(list.length), 1);
      else list.push([1]);
      break;
    default: {
      const p = new Y.XmlElement("p");
      p.insert(0, [new Y.XmlText(r.string(3))]);
      xml.insert(r.int(xml.length + 1), [p]);
    }
  }
}

/** Ids worth pointing at: some of the actor's, some of the update's, some of nobody's. */
function someId(r: Random, actor: Y.Doc, structs: readonly Struct[]): Y.ID {
  const roll = r.int(3);
  if (roll === 0 && structs.length > 0) {
    const s = r.pick(structs);
    return Y.createID(s.id.client, s.id.clock + r.int(s.length + 1));
  }
  const clients = [...actor.store.clients.keys()];
  if (roll === 1 && clients.length > 0) {
    const client = r.pick(clients);
    return Y.createID(client, r.int(Y.getState(actor.store, client) + 2));
  }
  return Y.createID(1 + r.int(3), r.int(5));
}

/** A decoded item's parent: an id, or a root type's name (Yjs's type omits the name). */
function setParent(item: Y.Item, parent: Y.ID | string): void {
  (item as { parent: unknown }).parent = parent;
}

function mutate(r: Random, actor: Y.Doc, update: Uint8Array): Uint8Array {
  const structs = Y.decodeUpdate(update).structs.filter((s): s is Struct => !(s instanceof Y.Skip));
  if (structs.length === 0) return update;
  for (let n = 1 + r.int(2); n > 0; n--) {
    const item = r.pick(structs);
    if (!(item instanceof Y.Item)) continue;
    switch (r.int(5)) {
      case 0:
        item.origin = r.bool(0.2) ? null : someId(r, actor, structs);
        break;
      case 1:
        item.rightOrigin = r.bool(0.3) ? null : someId(r, actor, structs);
        break;
      case 2:
        item.origin = null;
        item.rightOrigin = null;
        setParent(item, r.bool(0.3) ? r.pick([STATE_ROOT, "other"]) : someId(r, actor, structs));
        item.parentSub = r.bool() ? null : r.pick(["k", "__proto__"]);
        break;
      default:
        break; // only the grouping below
    }
    if (item.origin === null && item.rightOrigin === null && item.parent === null) setParent(item, STATE_ROOT);
  }
  // Group by client (what Yjs writes), then maybe split, duplicate, reorder or cut a group.
  const groups = new Map<number, Struct[]>();
  for (const s of structs) {
    const list = groups.get(s.id.client) ?? [];
    list.push(s);
    groups.set(s.id.client, list);
  }
  const out = [...groups.values()];
  const roll = r.int(6);
  if (roll === 0 && out[0]!.length > 1) out.push(out[0]!.splice(1 + r.int(out[0]!.length - 1)));
  else if (roll === 1) out.push([...r.pick(out)]);
  else if (roll === 2) out.reverse();
  else if (roll === 3 && out[0]!.length > 1) out[0]!.splice(r.int(out[0]!.length - 1) + 1, 1);
  return encodeGroups(out.filter((group) => group.length > 0));
}

test.each(seeds(40))("accepted edits integrate whole and stay readable (seed %i)", (seed) => {
  const r = random(seed);
  const replicas = [new Y.Doc(), new Y.Doc()];
  const actor = new Y.Doc();
  const root = actor.getMap(STATE_ROOT);
  root.set("text", new Y.Text());
  root.set("list", new Y.Array());
  root.set("xml", new Y.XmlFragment());
  for (const replica of replicas) Y.applyUpdate(replica, Y.encodeStateAsUpdate(actor));
  const outcomes = { accepted: 0, refused: 0 };
  for (let step = 0; step < 40; step++) {
    const index = r.int(replicas.length);
    const replica = replicas[index]!;
    const before = Y.encodeStateVector(replica);
    for (let i = 1 + r.int(3); i > 0; i--) change(r, replica);
    const honest = Y.encodeStateAsUpdate(replica, before);
    const update = r.bool(0.6) ? mutate(r, actor, honest) : honest;
    let verdict: string | null = null;
    try {
      checkEditUpdates(actor, [update]);
    } catch (error) {
      verdict = (error as Error).message;
      expect((error as { code?: string }).code, `seed ${seed} step ${step}: ${verdict}`).toBe("invalid_arguments");
    }
    if (verdict === null) {
      outcomes.accepted++;
      const copy = new Y.Doc();
      Y.applyUpdate(copy, Y.encodeStateAsUpdate(actor));
      copy.getMap(STATE_ROOT);
      expect(() => Y.applyUpdate(copy, update), `seed ${seed} step ${step}`).not.toThrow();
      expect({ structs: copy.store.pendingStructs, ds: copy.store.pendingDs }, `seed ${seed} step ${step}`).toEqual({ structs: null, ds: null });
      expect(() => stateToJSON(copy), `seed ${seed} step ${step}`).not.toThrow();
      Y.applyUpdate(actor, update);
    } else {
      outcomes.refused++;
      // An honest edit of a replica whose own edits all went in as they were is accepted.
      expect(update === honest ? verdict : null, `seed ${seed} step ${step}`).toBeNull();
    }
    if (update !== honest) {
      // The actor did not take the replica's change as made: the replica starts over from the
      // actor's state, as a new client.
      const fresh = new Y.Doc();
      Y.applyUpdate(fresh, Y.encodeStateAsUpdate(actor));
      replicas[index] = fresh;
      continue;
    }
    // Replicas catch up with the actor now and then (so later edits build on what it has).
    if (r.bool(0.5)) Y.applyUpdate(replica, Y.encodeStateAsUpdate(actor, Y.encodeStateVector(replica)));
  }
  expect(outcomes.accepted).toBeGreaterThan(0);
  expect(outcomes.refused).toBeGreaterThan(0);
});

/**
 * The draft against a naive model: random nested edits are applied both to a draft view and
 * to a plain JS model; after every step the view must read exactly like the model. Then the
 * draft is discarded (the document must be byte-for-byte unchanged) or committed (the
 * document, and a peer that applies the one update, must equal the model).
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { random, seeds, type Random } from "../../tests/support/random.ts";
import { Draft, stateRoot, stateToJSON, toPlain } from "./index.ts";

class ModelText {
  constructor(public s: string) {}
}
type Model = null | boolean | number | string | ModelText | Model[] | { [key: string]: Model };

function modelJSON(value: Model): unknown {
  if (value instanceof ModelText) return value.s;
  if (Array.isArray(value)) return value.map(modelJSON);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, modelJSON(v)]));
  return value;
}

function clone(value: Model): Model {
  if (value instanceof ModelText) return new ModelText(value.s);
  if (Array.isArray(value)) return value.map(clone);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
  return value;
}

/** A random value, in both forms: the model's and what user code would write. */
function randomValue(r: Random, depth: number): { model: Model; plain: unknown } {
  const kind = depth > 2 ? r.int(4) : r.int(7);
  switch (kind) {
    case 0: {
      const n = r.int(1000);
      return { model: n, plain: n };
    }
    case 1: {
      const s = r.string(6);
      return { model: s, plain: s };
    }
    case 2:
      return r.bool() ? { model: true, plain: true } : { model: null, plain: null };
    case 3: {
      const n = r.int(1000) - 500;
      return { model: n, plain: n };
    }
    case 4: {
      const model: Record<string, Model> = {};
      const plain: Record<string, unknown> = {};
      for (let i = r.int(4); i > 0; i--) {
        const key = r.pick(["a", "b", "c", "d", "e"]);
        const v = randomValue(r, depth + 1);
        model[key] = v.model;
        plain[key] = v.plain;
      }
      return { model, plain };
    }
    case 5: {
      const model: Model[] = [];
      const plain: unknown[] = [];
      for (let i = r.int(4); i > 0; i--) {
        const v = randomValue(r, depth + 1);
        model.push(v.model);
        plain.push(v.plain);
      }
      return { model, plain };
    }
    default: {
      const s = r.string(8);
      return { model: new ModelText(s), plain: new Y.Text(s) };
    }
  }
}

type Path = (string | number)[];

function containers(model: Model, path: Path, out: { path: Path; value: Model }[]): void {
  if (model instanceof ModelText) out.push({ path, value: model });
  else if (Array.isArray(model)) {
    out.push({ path, value: model });
    model.forEach((item, i) => containers(item, [...path, i], out));
  } else if (model !== null && typeof model === "object") {
    out.push({ path, value: model });
    for (const [k, v] of Object.entries(model)) containers(v, [...path, k], out);
  }
}

function at(root: unknown, path: Path): any {
  let value: any = root;
  for (const part of path) value = value[part];
  return value;
}

function value(r: Random) {
  return randomValue(r, 0);
}

/** One random edit, applied to the model and to the view alike. Returns a description. */
function randomEdit(r: Random, model: { [key: string]: Model }, view: any): string {
  const all: { path: Path; value: Model }[] = [];
  containers(model, [], all);
  const target = r.pick(all);
  const m = target.value;
  const v = at(view, target.path);
  if (m instanceof ModelText) {
    if (r.bool() || m.s.length === 0) {
      const index = r.int(m.s.length + 1);
      const text = r.string(4);
      m.s = m.s.slice(0, index) + text + m.s.slice(index);
      v.insert(index, text);
      return `text insert ${target.path.join(".")}@${index}`;
    }
    const index = r.int(m.s.length);
    const length = 1 + r.int(m.s.length - index);
    m.s = m.s.slice(0, index) + m.s.slice(index + length);
    v.delete(index, length);
    return `text delete ${target.path.join(".")}@${index}+${length}`;
  }
  if (Array.isArray(m)) {
    const op = r.int(9);
    if (op === 0) {
      const x = value(r);
      m.push(x.model);
      v.push(x.plain);
      return "push";
    }
    if (op === 1) {
      const x = value(r);
      m.unshift(x.model);
      v.unshift(x.plain);
      return "unshift";
    }
    if (op === 2) {
      const start = r.int(m.length + 1);
      const count = r.int(m.length - start + 1);
      const items = Array.from({ length: r.int(3) }, () => value(r));
      m.splice(start, count, ...items.map((x) => x.model));
      v.splice(start, count, ...items.map((x) => x.plain));
      return `splice ${start} ${count} +${items.length}`;
    }
    if (op === 3 && m.length > 0) {
      const index = r.int(m.length);
      const x = value(r);
      m[index] = x.model;
      v[index] = x.plain;
      return `set [${index}]`;
    }
    if (op === 4) {
      m.pop();
      v.pop();
      return "pop";
    }
    if (op === 5) {
      m.shift();
      v.shift();
      return "shift";
    }
    if (op === 6) {
      const key = (x: unknown) => JSON.stringify(x) ?? "";
      m.sort((a, b) => (key(modelJSON(a)) < key(modelJSON(b)) ? -1 : key(modelJSON(a)) > key(modelJSON(b)) ? 1 : 0));
      v.sort((a: unknown, b: unknown) => (key(toPlain(a)) < key(toPlain(b)) ? -1 : key(toPlain(a)) > key(toPlain(b)) ? 1 : 0));
      return "sort";
    }
    if (op === 7) {
      m.reverse();
      v.reverse();
      return "reverse";
    }
    const length = r.int(m.length + 1);
    m.length = length;
    v.length = length;
    return `length=${length}`;
  }
  const obj = m as { [key: string]: Model };
  const keys = Object.keys(obj);
  const op = r.int(4);
  if (op === 0 && keys.length > 0) {
    const key = r.pick(keys);
    delete obj[key];
    delete v[key];
    return `delete ${key}`;
  }
  if (op === 1 && all.length > 1) {
    // copy an existing container (object/array/text) to a key: a view written elsewhere copies it
    const source = r.pick(all.filter((c) => c.path.length > 0));
    const key = r.pick(["x", "y", "z"]);
    const copied = clone(source.value);
    const sourceView = at(view, source.path);
    obj[key] = copied;
    v[key] = sourceView;
    return `copy ${source.path.join(".")} -> ${key}`;
  }
  const key = r.pick(["a", "b", "c", "d", "e", "f"]);
  const x = value(r);
  obj[key] = x.model;
  v[key] = x.plain;
  return `set ${key}`;
}

function initial(r: Random): { model: { [key: string]: Model }; plain: Record<string, unknown> } {
  const model: { [key: string]: Model } = { list: [], obj: {}, text: new ModelText("hello") };
  const plain: Record<string, unknown> = { list: [], obj: {}, text: new Y.Text("hello") };
  for (let i = 0; i < 4; i++) {
    const key = r.pick(["p", "q", "r", "s"]);
    const x = value(r);
    model[key] = x.model;
    plain[key] = x.plain;
  }
  return { model, plain };
}

describe("draft against a naive model", () => {
  for (const seed of seeds(60)) {
    test(`seed ${seed}`, () => {
      const r = random(seed);
      const doc = new Y.Doc();
      const peer = new Y.Doc();
      const updates: Uint8Array[] = [];
      doc.on("update", (u: Uint8Array) => updates.push(u));

      const start = initial(r);
      const first = new Draft(stateRoot(doc));
      first.replaceRoot(start.plain);
      Y.applyUpdate(peer, first.commit("init")!);
      let model = start.model;
      expect(stateToJSON(doc)).toEqual(modelJSON(model));

      const log: string[] = [];
      try {
        for (let round = 0; round < 12; round++) {
          const before = Y.encodeStateAsUpdate(doc);
          const beforeJSON = stateToJSON(doc);
          const updatesBefore = updates.length;
          const draftModel = clone(model) as { [key: string]: Model };
          const draft = new Draft(stateRoot(doc));
          for (let step = 1 + r.int(8); step > 0; step--) {
            log.push(randomEdit(r, draftModel, draft.view));
            expect(toPlain(draft.view)).toEqual(modelJSON(draftModel));
          }
          if (r.bool(0.4)) {
            draft.close();
            log.push("-- discard");
            expect(updates.length).toBe(updatesBefore);
            expect(Y.encodeStateAsUpdate(doc)).toEqual(before);
            expect(stateToJSON(doc)).toEqual(beforeJSON);
          } else {
            const update = draft.commit("action");
            log.push("-- commit");
            expect(updates.length).toBe(update === null ? updatesBefore : updatesBefore + 1);
            if (update !== null) Y.applyUpdate(peer, update);
            model = draftModel;
            expect(stateToJSON(doc)).toEqual(modelJSON(model));
            expect(stateToJSON(peer)).toEqual(modelJSON(model));
          }
        }
      } catch (error) {
        throw new Error(`seed ${seed} failed (re-run with SEED=${seed}); steps:\n${log.join("\n")}\n${String(error)}`);
      }
    });
  }
});

describe("draft views", () => {
  function fresh(state: Record<string, unknown>) {
    const doc = new Y.Doc();
    const d = new Draft(stateRoot(doc));
    d.replaceRoot(state);
    d.commit();
    return doc;
  }

  test("a view behaves like a plain object and array", () => {
    const doc = fresh({ todos: [{ id: 1, done: false }], meta: { title: "t" } });
    const draft = new Draft(stateRoot(doc));
    const s = draft.view as any;
    expect(Array.isArray(s.todos)).toBe(true);
    expect(Object.keys(s.meta)).toEqual(["title"]);
    expect({ ...s.meta }).toEqual({ title: "t" });
    expect("title" in s.meta).toBe(true);
    expect(s.todos.map((t: any) => t.id)).toEqual([1]);
    expect([...s.todos].length).toBe(1);
    expect(JSON.stringify(s)).toBe('{"todos":[{"id":1,"done":false}],"meta":{"title":"t"}}');
    s.todos.find((t: any) => t.id === 1).done = true;
    expect(s.todos[0].done).toBe(true);
    expect(s.todos.filter((t: any) => t.done)).toHaveLength(1);
    expect(s.todos.indexOf(s.todos[0])).toBe(0);
    draft.commit();
    expect(stateToJSON(doc)).toEqual({ todos: [{ id: 1, done: true }], meta: { title: "t" } });
  });

  test("writing the same primitive creates no update", () => {
    const doc = fresh({ n: 1 });
    const draft = new Draft(stateRoot(doc));
    (draft.view as any).n = 1;
    expect(draft.commit()).toBeNull();
  });

  test("refuses values that are not state", () => {
    const doc = fresh({});
    const draft = new Draft(stateRoot(doc));
    const s = draft.view as any;
    expect(() => (s.f = () => 1)).toThrow(/function/);
    expect(() => (s.d = new Date())).toThrow(/Date/);
    expect(() => (s.m = new Map())).toThrow(/Map/);
    expect(() => (s.n = Number.NaN)).toThrow(/finite/);
    expect(() => (s.big = 1n)).toThrow(/bigint/);
    expect(() => (s.o = JSON.parse('{"__proto__": {"polluted": true}}'))).toThrow(/__proto__/);
    expect(() => (s.list = [1, [2, { g: Symbol("x") }]])).toThrow(/symbol/);
    expect(draft.changed).toBe(false);
    expect(draft.commit()).toBeNull();
    expect(({} as any).polluted).toBeUndefined();
  });

  test("arrays have no holes", () => {
    const doc = fresh({ list: [1] });
    const draft = new Draft(stateRoot(doc));
    const s = draft.view as any;
    expect(() => (s.list[5] = 1)).toThrow(/holes/);
    expect(() => delete s.list[0]).toThrow(/splice/);
    s.list[1] = 2;
    expect(s.list.toJSON()).toEqual([1, 2]);
  });

  test("a view written elsewhere is a copy; cycles cannot form", () => {
    const doc = fresh({ a: { inner: { n: 1 } } });
    const draft = new Draft(stateRoot(doc));
    const s = draft.view as any;
    s.b = s.a;
    s.a.inner.n = 2;
    s.a.inner.self = s.a; // a copy of a taken now, not a cycle
    expect(s.b.inner.n).toBe(1);
    draft.commit();
    expect(stateToJSON(doc)).toEqual({ a: { inner: { n: 2, self: { inner: { n: 2 } } } }, b: { inner: { n: 1 } } });
  });

  test("writes after the draft closed are refused; reads show the document", () => {
    const doc = fresh({ n: 1 });
    const draft = new Draft(stateRoot(doc));
    const s = draft.view as any;
    s.n = 2;
    draft.close();
    expect(s.n).toBe(1);
    expect(() => (s.n = 3)).toThrow(/action/);
  });

  test("texts keep formatting and take ranges", () => {
    const doc = fresh({ t: new Y.Text("abc") });
    const draft = new Draft(stateRoot(doc));
    const t = (draft.view as any).t;
    t.insert(3, "def", { bold: true });
    t.format(0, 1, { italic: true });
    expect(() => t.insert(99, "x")).toThrow(/outside/);
    expect(t.toString()).toBe("abcdef");
    draft.commit();
    const y = stateRoot(doc).get("t") as Y.Text;
    expect(y.toDelta()).toEqual([{ insert: "a", attributes: { italic: true } }, { insert: "bc" }, { insert: "def", attributes: { bold: true } }]);
  });

  test("a state template with a Y.Text can create many documents", () => {
    const template = { notes: new Y.Text("start") };
    for (let i = 0; i < 3; i++) {
      const doc = fresh(template);
      expect(stateToJSON(doc)).toEqual({ notes: "start" });
    }
  });

  test("values stored as plain JSON by a peer read as frozen copies", () => {
    const doc = new Y.Doc();
    stateRoot(doc).set("raw", { a: [1, 2] });
    const draft = new Draft(stateRoot(doc));
    const raw = (draft.view as any).raw;
    expect(raw).toEqual({ a: [1, 2] });
    expect(() => {
      raw.a.push(3);
    }).toThrow();
    (draft.view as any).raw = { a: [3] };
    draft.commit();
    expect(stateToJSON(doc)).toEqual({ raw: { a: [3] } });
  });
});

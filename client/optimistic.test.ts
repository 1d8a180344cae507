/**
 * The optimistic view against a naive model: after every step (server update, new pending
 * action, ack, rejection, local edit) the incrementally maintained view must equal a view
 * rebuilt from scratch — confirmed state with every pending prediction replayed in order —
 * and computing it must never add anything to the document.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { Draft, stateRoot, toPlain } from "../shared/state/index.ts";
import { random, seeds } from "../tests/support/random.ts";
import { OptimisticView, type PredictedAction, type Predictor } from "./optimistic.ts";

type State = { list: number[]; counter: number; tags: Record<string, string> };

const predictors: Record<string, Predictor> = {
  add: ((state: State, n: number) => {
    state.list.push(n);
  }) as Predictor,
  inc: ((state: State, k: number) => {
    state.counter += k;
  }) as Predictor,
  tag: ((state: State, key: string, value: string) => {
    state.tags[key] = value;
  }) as Predictor,
  removeFirst: ((state: State) => {
    state.list.splice(0, 1);
  }) as Predictor,
  // writes, then throws: its partial writes must not show
  broken: ((state: State) => {
    state.counter += 1000;
    throw new Error("broken prediction");
  }) as Predictor,
};

function naive(root: Y.Map<unknown>, pending: readonly PredictedAction[]): unknown {
  const draft = new Draft(root);
  for (const action of pending) {
    const before = toPlain(draft.view);
    try {
      (predictors[action.name] as (s: unknown, ...a: unknown[]) => void)?.(draft.view, ...structuredClone(action.args));
    } catch {
      // rebuild without it: simplest naive way is to restart from scratch without this action
      draft.close();
      return naive(root, pending.filter((a) => a !== action));
    }
    void before;
  }
  const json = toPlain(draft.view);
  draft.close();
  return json;
}

describe("optimistic view = confirmed ⊕ replay(pending)", () => {
  for (const seed of seeds(80)) {
    test(`seed ${seed}`, () => {
      const r = random(seed);
      const server = new Y.Doc();
      const replica = new Y.Doc();
      server.getMap("state").set("list", new Y.Array());
      server.getMap("state").set("counter", 0);
      server.getMap("state").set("tags", new Y.Map());
      Y.applyUpdate(replica, Y.encodeStateAsUpdate(server));
      const errors: string[] = [];
      const view = new OptimisticView(predictors, (action) => errors.push(action.name));
      let pending: PredictedAction[] = [];
      const log: string[] = [];
      try {
        for (let step = 0; step < 60; step++) {
          const op = r.int(6);
          if (op === 0) {
            // a server update (another client's action)
            const s = server.getMap("state");
            if (r.bool()) (s.get("list") as Y.Array<number>).push([r.int(100)]);
            else s.set("counter", (s.get("counter") as number) + 1);
            Y.applyUpdate(replica, Y.encodeStateAsUpdate(server, Y.encodeStateVector(replica)));
            view.invalidate();
            log.push("server update");
          } else if (op <= 2) {
            const name = r.pick(["add", "inc", "tag", "removeFirst", "broken", "noPredictor"]);
            const args = name === "add" || name === "inc" ? [r.int(10)] : name === "tag" ? [r.pick(["a", "b"]), r.string(3)] : [];
            pending = [...pending, { name, args }];
            log.push(`call ${name}`);
          } else if (op === 3 && pending.length > 0) {
            // the oldest is acked: its effect arrives as a server update, its prediction goes
            const [first, ...rest] = pending;
            const s = server.getMap("state");
            if (first!.name === "add") (s.get("list") as Y.Array<number>).push([first!.args[0] as number]);
            if (first!.name === "inc") s.set("counter", (s.get("counter") as number) + (first!.args[0] as number));
            Y.applyUpdate(replica, Y.encodeStateAsUpdate(server, Y.encodeStateVector(replica)));
            pending = rest;
            view.invalidate();
            log.push(`ack ${first!.name}`);
          } else if (op === 4 && pending.length > 0) {
            const index = r.int(pending.length);
            log.push(`reject ${pending[index]!.name}`);
            pending = pending.filter((_, i) => i !== index);
            view.invalidate();
          } else {
            // a local direct edit of the replica
            (replica.getMap("state").get("tags") as Y.Map<string>).set("local", r.string(2));
            view.invalidate();
            log.push("local edit");
          }
          const vector = Y.encodeStateVector(replica);
          const got = toPlain(view.view(stateRoot(replica), pending));
          expect(Y.encodeStateVector(replica), "computing the view wrote to the document").toEqual(vector);
          expect(got).toEqual(naive(stateRoot(replica), pending));
        }
      } catch (error) {
        throw new Error(`seed ${seed} (SEED=${seed}) failed after: ${log.join(", ")}\n${String(error)}`);
      }
      view.dispose();
    });
  }

  test("the view is read-only to the app", () => {
    const doc = new Y.Doc();
    doc.getMap("state").set("counter", 1);
    const view = new OptimisticView(predictors, () => undefined);
    const state = view.view(stateRoot(doc), [{ name: "inc", args: [1] }]) as State;
    expect(state.counter).toBe(2);
    expect(() => {
      state.counter = 5;
    }).toThrow(/read-only/);
  });
});

/**
 * The replica against a naive model of two documents: after every step (a server update,
 * a local edit, an accepted or rejected edit, a read of the confirmed state) `confirmed` must
 * hold exactly the server's updates and the accepted edits, and `doc` that plus the pending
 * edits — however the replica shares or copies its documents underneath.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { random, seeds } from "../tests/support/random.ts";
import { type PendingEdit, REMOTE, Replica } from "./replica.ts";

const textOf = (doc: Y.Doc) => doc.getMap("state").get("text") as Y.Text | undefined;
const contentOf = (doc: Y.Doc) => doc.getMap("state").toJSON();

function makeReplica() {
  const sent: PendingEdit[] = [];
  let replaced = 0;
  const replica = new Replica(
    (edit) => sent.push(edit),
    () => replaced++,
    () => undefined,
  );
  return { replica, sent, replaced: () => replaced };
}

describe("replica = confirmed ⊕ pending edits", () => {
  for (const seed of seeds(60)) {
    test(`seed ${seed}`, () => {
      const r = random(seed);
      const server = new Y.Doc();
      server.getMap("state").set("text", new Y.Text("start"));
      const model = new Y.Doc(); // what the server confirmed to this replica
      const { replica, sent } = makeReplica();
      const fromServer = (update: Uint8Array) => {
        Y.applyUpdate(model, update);
        replica.applyRemote(update);
      };
      fromServer(Y.encodeStateAsUpdate(server));
      const inFlight: PendingEdit[] = [];
      const log: string[] = [];

      for (let step = 0; step < 80; step++) {
        const op = r.int(7);
        if (op === 0 || op === 1) {
          // a local edit (an editor)
          const text = textOf(replica.doc)!;
          log.push("local");
          if (text.length > 0 && r.bool(0.3)) text.delete(r.int(text.length), 1);
          else text.insert(r.int(text.length + 1), r.string(3));
          inFlight.push(...sent.splice(0));
        } else if (op === 2) {
          // another client's change reaches the server, then this replica
          const before = Y.encodeStateVector(server);
          const text = textOf(server)!;
          log.push("remote");
          if (text.length > 0 && r.bool(0.3)) text.delete(r.int(text.length), 1);
          else text.insert(r.int(text.length + 1), r.string(4));
          fromServer(Y.encodeStateAsUpdate(server, before));
        } else if (op === 3 && inFlight.length > 0) {
          const edit = inFlight.shift()!;
          log.push("accept");
          Y.applyUpdate(server, edit.update);
          Y.applyUpdate(model, edit.update);
          expect(replica.accept(edit.id)?.id).toBe(edit.id);
        } else if (op === 4 && inFlight.length > 0) {
          const edit = inFlight.shift()!;
          log.push("reject");
          const discarded = replica.reject(edit.id);
          expect(discarded.map((e) => e.id)).toEqual([edit.id, ...inFlight.map((e) => e.id)]);
          inFlight.length = 0; // depend on the rejected one: the server refuses them too
        } else if (op === 5) {
          // a sync step 2 against the confirmed state vector
          log.push("sync");
          fromServer(Y.encodeStateAsUpdate(server, Y.encodeStateVector(replica.confirmed)));
        } else if (op === 6 && r.bool(0.2)) {
          log.push("discard");
          const discarded = replica.discardLocal();
          expect(discarded.map((e) => e.id)).toEqual(inFlight.map((e) => e.id));
          inFlight.length = 0;
        }
        const context = `seed ${seed}: ${log.join(" ")}`;
        expect(replica.pendingEdits.map((e) => e.id), context).toEqual(inFlight.map((e) => e.id));
        expect(contentOf(replica.confirmed), context).toEqual(contentOf(model));
        const expected = new Y.Doc();
        Y.applyUpdate(expected, Y.encodeStateAsUpdate(model));
        for (const edit of inFlight) Y.applyUpdate(expected, edit.update);
        expect(contentOf(replica.doc), context).toEqual(contentOf(expected));
        if (inFlight.length === 0) expect(replica.confirmed, context).toBe(replica.doc);
      }
      replica.destroy();
    });
  }
});

describe("replica documents", () => {
  test("a replica without local edits keeps one document", () => {
    const { replica } = makeReplica();
    const server = new Y.Doc();
    const text = new Y.Text();
    server.getMap("state").set("text", text);
    replica.applyRemote(Y.encodeStateAsUpdate(server));
    for (let i = 0; i < 50; i++) {
      const before = Y.encodeStateVector(server);
      text.insert(i, "x");
      replica.applyRemote(Y.encodeStateAsUpdate(server, before));
    }
    expect(replica.confirmed).toBe(replica.doc);
    expect(textOf(replica.doc)!.toString()).toBe("x".repeat(50));
  });

  test("an edit made by an observer of a server update is a local edit on top of it", () => {
    const { replica, sent } = makeReplica();
    const server = new Y.Doc();
    server.getMap("state").set("text", new Y.Text("ab"));
    replica.applyRemote(Y.encodeStateAsUpdate(server));
    const text = textOf(replica.doc)!;
    text.observe((event) => {
      if (event.transaction.origin === REMOTE) text.insert(0, "!");
    });
    const before = Y.encodeStateVector(server);
    textOf(server)!.insert(2, "c");
    replica.applyRemote(Y.encodeStateAsUpdate(server, before));
    expect(sent).toHaveLength(1);
    expect(textOf(replica.confirmed)!.toString()).toBe("abc");
    expect(text.toString()).toBe("!abc");
    expect(replica.reject(sent[0]!.id)).toHaveLength(1);
    expect(textOf(replica.doc)!.toString()).toBe("abc");
  });

  test("edits restored from storage sit on top of the stored confirmed state", () => {
    const { replica } = makeReplica();
    const source = new Y.Doc();
    source.getMap("state").set("text", new Y.Text("base"));
    replica.applyRemote(Y.encodeStateAsUpdate(source));
    const before = Y.encodeStateVector(source);
    textOf(source)!.insert(4, "+edit");
    replica.restoreEdit(Y.encodeStateAsUpdate(source, before), "e:1");
    expect(textOf(replica.doc)!.toString()).toBe("base+edit");
    expect(textOf(replica.confirmed)!.toString()).toBe("base");
    replica.accept(replica.pendingEdits[0]!.id);
    expect(replica.confirmed).toBe(replica.doc);
  });

  test("clear forgets the confirmed state and the edits", () => {
    const { replica } = makeReplica();
    const source = new Y.Doc();
    source.getMap("state").set("text", new Y.Text("base"));
    replica.applyRemote(Y.encodeStateAsUpdate(source));
    textOf(replica.doc)!.insert(0, "x");
    expect(replica.clear()).toHaveLength(1);
    expect(replica.hasState).toBe(false);
    expect(contentOf(replica.confirmed)).toEqual({});
    expect(contentOf(replica.doc)).toEqual({});
  });

  test("server updates are applied without being encoded again; local edits are still captured", () => {
    let changes = 0;
    const sent: PendingEdit[] = [];
    const replica = new Replica((edit) => sent.push(edit), () => undefined, () => changes++);
    // Yjs encodes a transaction as an update only while the doc has "update" observers.
    const listensForUpdates = () => (replica.doc as unknown as { _observers: Map<string, Set<unknown>> })._observers.has("update");
    const source = new Y.Doc();
    source.getMap("state").set("text", new Y.Text("base"));
    replica.applyRemote(Y.encodeStateAsUpdate(source));
    expect(listensForUpdates()).toBe(false);
    expect(changes).toBe(1);

    textOf(replica.doc)!.insert(0, "local ");
    expect(sent).toHaveLength(1);
    const echo = new Y.Doc();
    Y.applyUpdate(echo, Y.encodeStateAsUpdate(source));
    Y.applyUpdate(echo, sent[0]!.update);
    expect(textOf(echo)!.toString()).toBe("local base"); // the captured update is the edit

    const before = Y.encodeStateVector(source);
    textOf(source)!.insert(4, "+remote");
    replica.applyRemote(Y.encodeStateAsUpdate(source, before));
    expect(listensForUpdates()).toBe(false);
    expect(sent).toHaveLength(1); // a server update is never taken for an edit
    expect(changes).toBe(3);

    textOf(replica.doc)!.insert(0, "again ");
    expect(sent).toHaveLength(2);
    expect(textOf(replica.doc)!.toString()).toBe("again local base+remote");
    replica.applyRemote(Y.encodeStateAsUpdate(source, Y.encodeStateVector(source))); // nothing new
    expect(changes).toBe(4);
  });
});

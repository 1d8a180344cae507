/**
 * Issue 12, item 9: the demo board says todos change only through actions, so a direct edit
 * (a Yjs update any signed-in editor may send) may change the notes text and nothing else.
 * Crafted edits through the real client against the demo's registry: rewriting, toggling or
 * deleting another user's todo, adding a todo or a field, replacing the notes — all refused,
 * nothing changes on the server; typing in the notes is accepted, also after actions.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { memoryStorage } from "tandem/client";
import { memoryDriver } from "tandem/server";
import { registry, type Registry } from "../demo/actors.ts";
import { waitFor } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const net = useNetwork();

async function board(key: string) {
  const server = await net.server(registry);
  const alice = net.client<Registry>(server.url, { storage: memoryStorage() }).board.getOrCreate(key, { params: { name: "Alice" } }).connect();
  const bob = net.client<Registry>(server.url, { storage: memoryStorage() }).board.getOrCreate(key, { params: { name: "Bob" } }).connect();
  await Promise.all([alice.whenSynced(), bob.whenSynced()]);
  const todo = await alice.addTodo("Alice's todo");
  await waitFor(() => bob.state?.todos.length === 1, { what: "Bob sees the todo" });
  const truth = () => server.client.board.get(key, { params: { name: "Carol" } }).getTodos();
  return { server, alice, bob, todo, truth };
}

type Conn = Awaited<ReturnType<typeof board>>["bob"];

/** Makes a direct edit on `conn`'s replica and waits for the server's answer: the error if refused. */
async function edit(conn: Conn, change: (state: Y.Map<unknown>) => void): Promise<string | null> {
  let refused: string | null = null;
  const off = conn.onDoc(({ discarded }) => {
    refused = discarded.error.code;
  });
  try {
    change(conn.doc.getMap("state"));
    await waitFor(() => conn.pending === 0, { what: "the edit answered" });
    return refused;
  } finally {
    off();
  }
}

const todosOf = (state: Y.Map<unknown>) => state.get("todos") as Y.Array<Y.Map<unknown>>;

describe("demo: direct edits change the notes only", () => {
  test("crafted edits of another user's todo are refused; the server's todos do not change", async () => {
    const { bob, todo, truth } = await board("crafted");
    const crafted: [string, (state: Y.Map<unknown>) => void][] = [
      ["rewrite its text", (state) => todosOf(state).get(0).set("text", "pwned by Bob")],
      ["take its authorship", (state) => todosOf(state).get(0).set("author", "Bob")],
      ["toggle it", (state) => todosOf(state).get(0).set("done", true)],
      ["delete it", (state) => todosOf(state).delete(0, 1)],
      ["delete one of its fields", (state) => todosOf(state).get(0).delete("author")],
      ["add a todo", (state) => todosOf(state).push([new Y.Map(Object.entries({ id: "x", text: "sneaky", done: false, author: "Alice" }))])],
      ["add a field", (state) => state.set("admin", true)],
      ["replace the notes", (state) => state.set("notes", new Y.Text("replaced"))],
      ["replace the todos", (state) => state.set("todos", new Y.Array())],
    ];
    for (const [what, change] of crafted) {
      expect(await edit(bob, change), what).toBe("forbidden");
      expect(await truth(), what).toEqual([todo]);
      expect(bob.state?.todos, what).toEqual([todo]);
    }
  });

  test("editing the notes text is accepted (typing, deleting), also after todo actions", async () => {
    const { server, alice, bob, truth } = await board("notes");
    const notes = (conn: Conn) => conn.doc.getMap("state").get("notes") as Y.Text;
    expect(await edit(bob, () => notes(bob).insert(0, "Hello from Bob"))).toBeNull();
    expect(await edit(bob, () => notes(bob).delete(0, 6))).toBeNull();
    await alice.toggleTodo((await truth())[0]!.id);
    await bob.addTodo("Bob's todo");
    await waitFor(() => bob.state?.todos.length === 2 && bob.state.todos[0]!.done, { what: "the actions at Bob's" });
    expect(await edit(bob, () => notes(bob).insert(notes(bob).length, "!"))).toBeNull();
    await waitFor(() => alice.state?.notes.toString() === "from Bob!", { what: "the notes at Alice's" });
    expect(String((await server.client.board.get("notes").getTodos()).length)).toBe("2");
  });

  test("after a restart (todos loaded from storage, toggled by another server instance) notes edits are still accepted", async () => {
    const driver = memoryDriver();
    const first = await net.server(registry, { driver });
    const alice = net.client<Registry>(first.url, { storage: memoryStorage() }).board.getOrCreate("restart", { params: { name: "Alice" } });
    const todo = await alice.addTodo("one");
    await alice.addTodo("two");
    await alice.toggleTodo(todo.id);
    await net.closeServer(first);
    const second = await net.server(registry, { driver });
    await net.client<Registry>(second.url, { storage: memoryStorage() }).board.get("restart", { params: { name: "Alice" } }).toggleTodo(todo.id);
    const bob = net.client<Registry>(second.url, { storage: memoryStorage() }).board.getOrCreate("restart", { params: { name: "Bob" } }).connect();
    await bob.whenSynced();
    const notes = bob.doc.getMap("state").get("notes") as Y.Text;
    expect(await edit(bob, () => notes.insert(0, "after the restart"))).toBeNull();
    expect(await edit(bob, (state) => todosOf(state).get(1).set("text", "changed"))).toBe("forbidden");
  });
});

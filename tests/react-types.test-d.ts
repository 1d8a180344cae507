/**
 * Type tests of tandem/react: what the hooks infer from `typeof registry` through the
 * client's handles and connections. Only type-checked (tsc), never run: every assertion is
 * an `expectTypeOf` or a `@ts-expect-error` line that must stay an error.
 */
import { expectTypeOf, test } from "vitest";
import * as Y from "yjs";
import { actor, event, setup } from "tandem";
import { createClient, type ActorConnection, type Client, type ConnectionStatus, type OutboxEntry } from "tandem/client";
import { useActor, useActorState, useClient, useEvent, useOutbox, usePending, usePresence, useStatus, type PresenceSnapshot, type Snapshot } from "tandem/react";

interface Todo {
  id: string;
  text: string;
  done: boolean;
}

const board = actor({
  state: { notes: new Y.Text(""), todos: [] as Todo[], tags: { pinned: [] as string[] }, count: 0 },
  onAuth: ({ params }: { params: { name: string } }) => ({ name: params.name }),
  events: { todoAdded: event<Todo>(), cleared: event() },
  actions: {
    addTodo: (c, text: string): Todo => {
      const todo = { id: "1", text, done: false };
      c.state.todos.push(todo);
      return todo;
    },
  },
});
const counter = actor({ state: { value: 0 }, actions: { inc: (c, by: number) => (c.state.value += by) } });
const registry = setup({ use: { board, counter } });
type R = typeof registry;
type BoardConn = ActorConnection<R["actors"]["board"]>;

declare const client: Client<R>;

test("useClient is typed by the registry", () => {
  expectTypeOf(useClient<R>()).toEqualTypeOf<Client<R>>();
  expectTypeOf(createClient<R>("http://x")).toEqualTypeOf(useClient<R>());
});

test("useActor gives the handle's connection, or null for no handle", () => {
  const conn = useActor(client.board.getOrCreate("k", { params: { name: "a" } }));
  expectTypeOf(conn).toEqualTypeOf<BoardConn>();
  expectTypeOf(conn.addTodo).toEqualTypeOf<(text: string) => Promise<Todo>>();
  const maybe = useActor(Math.random() > 0.5 ? client.counter.get("c") : null);
  expectTypeOf(maybe).toEqualTypeOf<ActorConnection<R["actors"]["counter"]> | null>();
  // @ts-expect-error: not a handle
  useActor({ nope: true });
  // @ts-expect-error: wrong params for the actor
  client.board.getOrCreate("k", { params: { name: 1 } });
});

test("useActorState infers the state from the connection and gives plain, read-only data", () => {
  const conn = useActor(client.board.getOrCreate("k", { params: { name: "a" } }));
  expectTypeOf(useActorState(conn, (s) => s.count)).toEqualTypeOf<number | undefined>();
  expectTypeOf(useActorState(conn, (s) => s.todos)).toEqualTypeOf<readonly { readonly id: string; readonly text: string; readonly done: boolean }[] | undefined>();
  // a Y.Text in the state is a string in a selection
  expectTypeOf(useActorState(conn, (s) => s.notes)).toEqualTypeOf<string | undefined>();
  expectTypeOf(useActorState(conn, (s) => ({ n: s.todos.length, pinned: s.tags.pinned }))).toEqualTypeOf<{ readonly n: number; readonly pinned: readonly string[] } | undefined>();
  expectTypeOf<Snapshot<Y.Array<Y.Text>>>().toEqualTypeOf<readonly string[]>();
  // isEqual compares snapshots
  useActorState(
    conn,
    (s) => s.todos,
    (a, b) => a.length === b.length,
  );
  // @ts-expect-error: no such state field
  useActorState(conn, (s) => s.nope);
  // @ts-expect-error: isEqual gets snapshots of the selection, not numbers
  useActorState(conn, (s) => s.todos, (a: number, b: number) => a === b);
  const none = useActor(null as null | ReturnType<typeof client.counter.get>);
  expectTypeOf(useActorState(none, (s) => s.value)).toEqualTypeOf<number | undefined>();
});

test("status, outbox, pending, presence, events", () => {
  const conn = useActor(client.board.getOrCreate("k", { params: { name: "a" } }));
  expectTypeOf(useStatus(conn)).toEqualTypeOf<ConnectionStatus>();
  expectTypeOf(useOutbox(conn)).toEqualTypeOf<readonly OutboxEntry[]>();
  expectTypeOf(usePending(conn)).toEqualTypeOf<number>();
  expectTypeOf(usePresence(conn)).toEqualTypeOf<PresenceSnapshot<Record<string, unknown>>>();
  expectTypeOf(usePresence<{ user?: { name: string } }>(conn).others[0]!.state.user).toEqualTypeOf<{ name: string } | undefined>();
  useEvent(conn, "todoAdded", (todo) => expectTypeOf(todo).toEqualTypeOf<Todo>());
  useEvent(conn, "cleared", (payload) => expectTypeOf(payload).toEqualTypeOf<undefined>());
  // @ts-expect-error: not a declared event
  useEvent(conn, "todoAded", () => {});
  // @ts-expect-error: wrong payload type
  useEvent(conn, "todoAdded", (todo: string) => todo);
});

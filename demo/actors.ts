/**
 * The demo's actors: a collaborative board with shared notes (a Y.Text for an editor) and a
 * todo list changed only through actions, with server rules.
 *
 * Sign-in is by name (`params.name`); `params.mode === "view"` makes a read-only viewer:
 * it may not edit the notes (canEdit) nor add, toggle or delete todos. Only a todo's author
 * may delete it. A direct edit may change the notes text and nothing else (onEdit,
 * notes-only-edit.ts): todos change only through actions.
 */
import * as Y from "yjs";
import { actor, event, setup, Unauthorized, UserError } from "tandem";
import { colorOf, lightColorOf } from "./colors.ts";
import { assertNotesOnlyEdit, todosFingerprint } from "./notes-only-edit.ts";

export interface Todo {
  id: string;
  text: string;
  done: boolean;
  author: string;
}

export const MAX_TODO_LENGTH = 140;
export const MAX_NAME_LENGTH = 40;

export interface BoardParams {
  name?: string;
  mode?: "edit" | "view";
}

export const board = actor({
  state: { notes: new Y.Text(""), todos: [] as Todo[] },
  /** The todos as they are now (their fingerprint), for onEdit: set on load and by every action that changes them. */
  createVars: () => ({ todosNow: null as string | null }),
  onStart: (c) => {
    c.vars.todosNow = todosFingerprint(c.state);
  },
  onAuth: ({ params }: { params: BoardParams }) => {
    const name = typeof params?.name === "string" ? params.name.trim() : "";
    if (!name) throw new Unauthorized("Sign in with a name");
    if (name.length > MAX_NAME_LENGTH) throw new Unauthorized(`A name has at most ${MAX_NAME_LENGTH} characters`);
    return { name, viewer: params.mode === "view" };
  },
  /** What others see in presence (`state.user`): y-codemirror reads name, color and colorLight. */
  identity: (auth) => ({ name: auth.name, color: colorOf(auth.name), colorLight: lightColorOf(auth.name), viewer: auth.viewer }),
  canEdit: (c) => !c.conn.auth.viewer,
  onEdit: (c) => assertNotesOnlyEdit(c.update, c.state, c.vars.todosNow),
  events: { todoAdded: event<Todo>() },
  actions: {
    addTodo: (c, text: string) => {
      if (c.conn.auth.viewer) throw new UserError("Viewers cannot add todos", { code: "read_only" });
      const trimmed = String(text).trim();
      if (trimmed.length === 0) throw new UserError("A todo needs some text", { code: "empty" });
      if (trimmed.length > MAX_TODO_LENGTH) throw new UserError(`A todo has at most ${MAX_TODO_LENGTH} characters`, { code: "too_long" });
      const todo: Todo = { id: crypto.randomUUID(), text: trimmed, done: false, author: c.conn.auth.name };
      c.state.todos.push(todo);
      c.vars.todosNow = todosFingerprint(c.state);
      c.broadcast("todoAdded", todo);
      return todo;
    },
    toggleTodo: (c, id: string) => {
      if (c.conn.auth.viewer) throw new UserError("Viewers cannot change todos", { code: "read_only" });
      const todo = c.state.todos.find((t) => t.id === id);
      if (!todo) throw new UserError("No such todo", { code: "not_found" });
      todo.done = !todo.done;
      c.vars.todosNow = todosFingerprint(c.state);
      return todo.done;
    },
    deleteTodo: (c, id: string) => {
      if (c.conn.auth.viewer) throw new UserError("Viewers cannot delete todos", { code: "read_only" });
      const index = c.state.todos.findIndex((t) => t.id === id);
      if (index < 0) throw new UserError("No such todo", { code: "not_found" });
      if (c.state.todos[index]!.author !== c.conn.auth.name) throw new UserError("Only the author may delete a todo", { code: "not_author" });
      c.state.todos.splice(index, 1);
      c.vars.todosNow = todosFingerprint(c.state);
    },
    getTodos: (c) => c.state.todos,
  },
});

export const registry = setup({ use: { board } });
export type Registry = typeof registry;

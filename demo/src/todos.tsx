/**
 * The todo list: changed only through actions, shown at once through their predictions
 * ("saving…" until the server confirms), rolled back when the server refuses. Rows are
 * memoized on their todo: the list's selection keeps the objects of unchanged todos, so a
 * change re-renders only the rows it touches.
 */
import { memo, useMemo, useState, type CSSProperties, type FormEvent } from "react";
import { useActorState, useOutbox, type Snapshot } from "tandem/react";
import { MAX_TODO_LENGTH, type Todo } from "../actors.ts";
import { colorOf } from "../colors.ts";
import type { BoardConnection } from "./board-connection.ts";

interface TodosProps {
  conn: BoardConnection;
  name: string;
  viewer: boolean;
}

export function TodosPanel({ conn, name, viewer }: TodosProps) {
  const todos = useActorState(conn, (state) => state.todos);
  const outbox = useOutbox(conn);
  // todos with a toggle not yet confirmed (a pending delete already hides its todo)
  const unsaved = useMemo(() => new Set(outbox.filter((entry) => entry.name === "toggleTodo").map((entry) => entry.args[0])), [outbox]);
  const rows = todos ?? [];
  const open = rows.filter((todo) => !todo.done).length;
  let pendingIndex = 0;
  return (
    <section className="panel todos-panel">
      <h2>
        Todos <span className="count">{rows.length === 0 ? "" : `${open} open · ${rows.length} total`}</span>
      </h2>
      {viewer ? null : <TodoForm conn={conn} />}
      <ul id="todo-list" className="todo-list">
        {rows.map((todo) => (
          <TodoItem key={todo.id === "" ? `pending-${pendingIndex++}` : todo.id} todo={todo} conn={conn} unsaved={unsaved.has(todo.id)} mine={todo.author === name} viewer={viewer} />
        ))}
      </ul>
      <p className="empty" hidden={todos !== undefined && rows.length > 0}>
        {todos === undefined ? "Loading…" : viewer ? "No todos yet." : "Nothing to do yet. Add the first todo above."}
      </p>
    </section>
  );
}

function TodoForm({ conn }: { conn: BoardConnection }) {
  const [text, setText] = useState("");
  const length = text.trim().length;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = text.trim();
    if (trimmed === "") return;
    void conn.addTodo(trimmed).catch(() => undefined); // shown at once; the server answers later (even after a reload)
    setText("");
  };
  return (
    <form id="todo-form" className="todo-form" onSubmit={submit}>
      <input id="todo-input" name="text" placeholder="Add a todo…" autoComplete="off" aria-label="New todo" value={text} onChange={(event) => setText(event.target.value)} />
      <span className={`counter${length > MAX_TODO_LENGTH ? " over" : ""}`} aria-live="polite">
        {`${length}/${MAX_TODO_LENGTH}`}
      </span>
      <button type="submit" className="primary">
        Add
      </button>
    </form>
  );
}

interface TodoItemProps {
  todo: Snapshot<Todo>;
  conn: BoardConnection;
  unsaved: boolean;
  mine: boolean;
  viewer: boolean;
}

const TodoItem = memo(function TodoItem({ todo, conn, unsaved, mine, viewer }: TodoItemProps) {
  const pending = todo.id === "";
  const classes = ["todo", pending && "pending", todo.done && "done", mine && "mine", unsaved && "unsaved"].filter(Boolean).join(" ");
  // A rejection shows through onSettled (board.tsx), so the promises' own rejections are dropped.
  const toggle = () => void conn.toggleTodo(todo.id).catch(() => undefined);
  const remove = () => void conn.deleteTodo(todo.id).catch(() => undefined);
  return (
    <li className={classes} data-id={todo.id} data-author={todo.author}>
      <label className="todo-main">
        <input type="checkbox" className="todo-toggle" aria-label="Done" checked={todo.done} disabled={viewer || pending} onChange={toggle} />
        <span className="todo-text">{todo.text}</span>
      </label>
      <span className="todo-author" style={{ "--c": colorOf(todo.author) } as CSSProperties}>
        {mine ? "you" : todo.author}
      </span>
      <span className="todo-saving">saving…</span>
      {viewer ? null : (
        <button type="button" className="todo-delete" aria-label="Delete todo" disabled={pending} title={mine ? "Delete" : `Only ${todo.author} may delete this (the server decides)`} onClick={remove}>
          ×
        </button>
      )}
    </li>
  );
});

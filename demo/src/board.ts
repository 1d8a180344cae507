/**
 * The board: notes (CodeMirror over the shared Y.Text), todos (actions only, with
 * optimistic predictions), presence, a status badge and visible errors.
 */
import { createClient, type ActorConnection, type Client, type ConnectionStatus } from "tandem/client";
import { MAX_TODO_LENGTH, type Registry, type Todo } from "../actors.ts";
import { colorOf } from "../colors.ts";
import { coalesce, h } from "./dom.ts";
import { NotesEditor } from "./editor.ts";
import { initials, renderPresence } from "./presence.ts";
import { Toasts } from "./toasts.ts";

type BoardConnection = ActorConnection<Registry["actors"]["board"]>;

export interface BoardOptions {
  name: string;
  boardKey: string;
  viewer: boolean;
  onSignOut: () => void;
}

const STATUS_LABELS: Record<ConnectionStatus, string> = {
  offline: "Offline",
  connecting: "Connecting…",
  syncing: "Syncing…",
  synced: "Synced",
};

/** Test and debugging hook: the live client and connection of this page. */
declare global {
  interface Window {
    tandemDemo?: { client: Client<Registry>; conn: BoardConnection; notes: () => string };
  }
}

export function mountBoard(root: HTMLElement, options: BoardOptions): void {
  const { name, boardKey, viewer } = options;

  const client = createClient<Registry>(location.origin, {
    // Reconnect quickly once the network is back: a demo is watched, not deployed at scale.
    backoff: { baseMs: 250, maxMs: 3000 },
    optimistic: {
      board: {
        // What the UI shows at once; the server's rules decide (a too-long todo is shown,
        // then rolled back with the server's error).
        addTodo: (state, text) => {
          state.todos.push({ id: "", text: String(text).trim(), done: false, author: name });
        },
        toggleTodo: (state, id) => {
          const todo = state.todos.find((t) => t.id === id);
          if (todo) todo.done = !todo.done;
        },
        deleteTodo: (state, id) => {
          const index = state.todos.findIndex((t) => t.id === id);
          if (index >= 0) state.todos.splice(index, 1);
        },
      },
    },
  });
  const conn: BoardConnection = client.board.getOrCreate(boardKey, { params: { name, mode: viewer ? "view" : "edit" } }).connect();

  // ---- layout ---------------------------------------------------------------------------
  const toasts = new Toasts();
  const statusLabel = h("span", { class: "status-label" }, STATUS_LABELS[conn.status]);
  const pendingLabel = h("span", { id: "pending", class: "pending-count" });
  const status = h("div", { id: "status", class: "status", role: "status" }, h("span", { class: "dot", "aria-hidden": "true" }), statusLabel, pendingLabel);
  const presence = h("ul", { id: "presence", class: "presence", "aria-label": "Who is here" });
  const signOut = h("button", { id: "sign-out", class: "ghost", type: "button" }, "Sign out");
  const header = h(
    "header",
    { class: "top" },
    h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }), h("span", { class: "brand-name" }, "Tandem"), h("span", { class: "board-key", title: "Board" }, boardKey)),
    presence,
    status,
    h("div", { class: "me", style: { "--c": colorOf(name) } }, h("span", { class: "avatar", "aria-hidden": "true" }, initials(name)), h("span", { id: "me-name" }, name), signOut),
  );

  const banner = viewer
    ? h("div", { id: "viewer-banner", class: "banner" }, h("strong", {}, "Read-only view. "), "You see every change live, but cannot edit the notes or the todos.")
    : null;

  const editorHost = h("div", { id: "notes", class: "editor" });
  const notesPanel = h("section", { class: "panel notes-panel" }, h("h2", {}, "Notes"), editorHost);

  const input = h("input", { id: "todo-input", name: "text", placeholder: "Add a todo…", autocomplete: "off", "aria-label": "New todo" });
  const counter = h("span", { class: "counter", "aria-live": "polite" }, `0/${MAX_TODO_LENGTH}`);
  const form = viewer ? null : h("form", { id: "todo-form", class: "todo-form" }, input, counter, h("button", { type: "submit", class: "primary" }, "Add"));
  const list = h("ul", { id: "todo-list", class: "todo-list" });
  const empty = h("p", { class: "empty" }, "Loading…");
  const count = h("span", { class: "count" });
  const todosPanel = h("section", { class: "panel todos-panel" }, h("h2", {}, "Todos ", count), form, list, empty);

  const viewLink = new URL(location.href);
  viewLink.search = new URLSearchParams({ board: boardKey, mode: "view" }).toString();
  const editLink = new URL(location.href);
  editLink.search = new URLSearchParams({ board: boardKey }).toString();
  const footer = h(
    "footer",
    { class: "foot" },
    h("span", {}, "Share this board: "),
    h("a", { id: "view-link", href: viewLink.toString(), target: "_blank", rel: "noopener" }, "read-only link"),
    h("span", { "aria-hidden": "true" }, " · "),
    h("a", { id: "edit-link", href: editLink.toString(), target: "_blank", rel: "noopener" }, "editor link"),
    h("span", { class: "foot-note" }, "Works offline: changes wait in this browser and sync when you are back."),
  );

  root.replaceChildren(header, ...(banner ? [banner] : []), h("main", { class: "board" }, notesPanel, todosPanel), footer, toasts.element);

  // ---- notes ----------------------------------------------------------------------------
  const editor = new NotesEditor(editorHost, conn.awareness, viewer);
  conn.onDoc(({ doc }) => editor.bind(doc));
  window.tandemDemo = { client, conn, notes: () => editor.view.state.doc.toString() };

  // ---- presence -------------------------------------------------------------------------
  conn.awareness.setLocalStateField("user", { name, color: colorOf(name) }); // the server stamps the real one
  const drawPresence = coalesce(() => renderPresence(presence, conn.awareness, { name, viewer }));
  conn.awareness.on("change", drawPresence);
  drawPresence();

  // ---- status ---------------------------------------------------------------------------
  // A page opened without a network (or with the server down) never gets past
  // "connecting" in the client's terms: say "offline" when the browser knows it is, or
  // when connecting has taken a while.
  const openedAt = Date.now();
  const CONNECTING_GRACE_MS = 2500;
  const shownStatus = (): ConnectionStatus => {
    if (conn.status !== "connecting") return conn.status;
    return !navigator.onLine || Date.now() - openedAt > CONNECTING_GRACE_MS ? "offline" : "connecting";
  };
  const drawStatus = () => {
    const shown = shownStatus();
    status.dataset.status = shown;
    statusLabel.textContent = STATUS_LABELS[shown];
    const n = conn.pending;
    pendingLabel.textContent = n > 0 ? `${n} ${n === 1 ? "change" : "changes"} not yet saved` : "";
    pendingLabel.hidden = n === 0;
    status.dataset.pending = String(n);
    signOut.disabled = n > 0;
    signOut.title = n > 0 ? "Wait until your changes are saved" : "";
  };
  conn.onStatus(drawStatus);
  window.addEventListener("online", drawStatus);
  window.addEventListener("offline", drawStatus);
  // The pending count follows onChange (below); the connecting grace ends once.
  const graceTimer = setTimeout(drawStatus, CONNECTING_GRACE_MS + 1);

  // ---- todos ----------------------------------------------------------------------------
  const items = new Map<string, HTMLLIElement>();
  const drawTodos = coalesce(() => {
    const todos = conn.state?.todos;
    if (todos === undefined) {
      empty.textContent = "Loading…";
      empty.hidden = false;
      return;
    }
    // todos with a toggle not yet confirmed (a pending delete already hides its todo)
    const unsaved = new Set(conn.outbox.filter((entry) => entry.name === "toggleTodo").map((entry) => entry.args[0]));
    const seen = new Set<string>();
    const rows: HTMLLIElement[] = [];
    let pendingIndex = 0;
    let open = 0;
    for (const todo of todos as Iterable<Todo>) {
      const key = todo.id === "" ? `pending-${pendingIndex++}` : todo.id;
      seen.add(key);
      let li = items.get(key);
      if (!li) items.set(key, (li = todoItem()));
      updateTodoItem(li, todo);
      li.classList.toggle("unsaved", unsaved.has(todo.id));
      rows.push(li);
      if (!todo.done) open++;
    }
    for (const [key, li] of items) if (!seen.has(key)) (li.remove(), items.delete(key));
    rows.forEach((li, i) => {
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] ?? null);
    });
    count.textContent = rows.length === 0 ? "" : `${open} open · ${rows.length} total`;
    empty.textContent = viewer ? "No todos yet." : "Nothing to do yet. Add the first todo above.";
    empty.hidden = rows.length > 0;
  });

  const todoItem = (): HTMLLIElement => {
    const checkbox = h("input", { type: "checkbox", class: "todo-toggle", "aria-label": "Done" });
    const remove = h("button", { type: "button", class: "todo-delete", "aria-label": "Delete todo" }, "×");
    const li = h(
      "li",
      { class: "todo" },
      h("label", { class: "todo-main" }, checkbox, h("span", { class: "todo-text" })),
      h("span", { class: "todo-author" }),
      h("span", { class: "todo-saving" }, "saving…"),
      viewer ? null : remove,
    );
    checkbox.disabled = viewer;
    checkbox.addEventListener("change", () => {
      const id = li.dataset.id;
      if (id) void conn.toggleTodo(id).catch(() => undefined); // a rejection shows through onSettled
    });
    remove.addEventListener("click", () => {
      const id = li.dataset.id;
      if (id) void conn.deleteTodo(id).catch(() => undefined);
    });
    return li;
  };

  const updateTodoItem = (li: HTMLLIElement, todo: Todo): void => {
    const pending = todo.id === "";
    li.dataset.id = todo.id;
    li.dataset.author = todo.author;
    li.classList.toggle("pending", pending);
    li.classList.toggle("done", todo.done);
    li.classList.toggle("mine", todo.author === name);
    const checkbox = li.querySelector<HTMLInputElement>(".todo-toggle")!;
    checkbox.checked = todo.done;
    checkbox.disabled = viewer || pending;
    li.querySelector(".todo-text")!.textContent = todo.text;
    const author = li.querySelector<HTMLElement>(".todo-author")!;
    author.textContent = todo.author === name ? "you" : todo.author;
    author.style.setProperty("--c", colorOf(todo.author));
    const remove = li.querySelector<HTMLButtonElement>(".todo-delete");
    if (remove) {
      remove.disabled = pending;
      remove.title = todo.author === name ? "Delete" : `Only ${todo.author} may delete this (the server decides)`;
    }
  };

  if (form) {
    const updateCounter = () => {
      const length = input.value.trim().length;
      counter.textContent = `${length}/${MAX_TODO_LENGTH}`;
      counter.classList.toggle("over", length > MAX_TODO_LENGTH);
    };
    input.addEventListener("input", updateCounter);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (text === "") return;
      void conn.addTodo(text).catch(() => undefined); // shown at once; the server answers later (even after a reload)
      input.value = "";
      updateCounter();
    });
  }

  // ---- errors ---------------------------------------------------------------------------
  conn.onSettled((entry) => {
    if (entry.status !== "rejected" || !entry.error) return;
    if (entry.error.code === "actor_stopped") return; // disposed or reset on purpose
    toasts.error(entry.error.message, describeAction(entry.name, entry.args));
  });
  conn.onError((error) => toasts.error(error.message));

  // ---- everything that follows the replica ------------------------------------------------
  conn.onChange(() => {
    editor.bind(conn.doc);
    drawTodos();
    drawStatus();
  });
  void conn.whenLoaded().then(() => {
    editor.bind(conn.doc);
    drawTodos();
  });
  drawStatus();
  drawTodos();

  signOut.addEventListener("click", () => {
    if (conn.pending > 0) return;
    clearTimeout(graceTimer);
    window.removeEventListener("online", drawStatus);
    window.removeEventListener("offline", drawStatus);
    conn.dispose();
    client.dispose();
    editor.destroy();
    options.onSignOut();
  });
}

function describeAction(name: string, args: readonly unknown[]): string {
  const arg = typeof args[0] === "string" ? args[0] : "";
  const short = arg.length > 48 ? `${arg.slice(0, 45)}…` : arg;
  switch (name) {
    case "addTodo":
      return `Not added: “${short}”`;
    case "deleteTodo":
      return "Not deleted";
    case "toggleTodo":
      return "Not changed";
    default:
      return `${name} was refused`;
  }
}

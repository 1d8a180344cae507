/**
 * The board on tandem/react: notes (CodeMirror over the shared Y.Text), todos (actions only,
 * with optimistic predictions), presence, a status badge and visible errors. Every part
 * follows the connection through the hooks (no polling): `useActor` for the connection,
 * `useActorState` for the todos, `useOutbox`/`usePending` for what is not saved yet,
 * `useStatus` for the badge and `usePresence` for who is here.
 */
import { useEffect, useRef, type CSSProperties } from "react";
import type { Client } from "tandem/client";
import { useActor, useClient, usePending } from "tandem/react";
import type { Registry } from "../actors.ts";
import { colorOf } from "../colors.ts";
import type { BoardConnection } from "./board-connection.ts";
import { DevtoolsButton } from "./devtools-button.tsx";
import type { NotesEditor } from "./editor.ts";
import { NotesPanel } from "./notes.tsx";
import { initials, PresenceList } from "./presence.tsx";
import { StatusBadge } from "./status-badge.tsx";
import { Toasts, useToasts } from "./toasts.tsx";
import { TodosPanel } from "./todos.tsx";

export interface BoardProps {
  name: string;
  boardKey: string;
  viewer: boolean;
  onSignOut: () => void;
}

/** Test and debugging hook: the live client and connection of this page. */
declare global {
  interface Window {
    tandemDemo?: { client: Client<Registry>; conn: BoardConnection; notes: () => string };
  }
}

export function Board({ name, boardKey, viewer, onSignOut }: BoardProps) {
  const client = useClient<Registry>();
  const conn = useActor(client.board.getOrCreate(boardKey, { params: { name, mode: viewer ? "view" : "edit" } }));
  const pending = usePending(conn);
  const { toasts, error, dismiss } = useToasts();
  const editor = useRef<NotesEditor | null>(null);

  useEffect(() => {
    const demo = { client, conn, notes: () => editor.current?.view.state.doc.toString() ?? "" };
    window.tandemDemo = demo;
    return () => {
      if (window.tandemDemo === demo) delete window.tandemDemo;
    };
  }, [client, conn]);

  useEffect(() => {
    conn.awareness.setLocalStateField("user", { name, color: colorOf(name) }); // the server stamps the real one
  }, [conn, name]);

  useEffect(() => {
    const offSettled = conn.onSettled((entry) => {
      if (entry.status !== "rejected" || !entry.error) return;
      if (entry.error.code === "actor_stopped") return; // disposed or reset on purpose
      error(entry.error.message, describeAction(entry.name, entry.args));
    });
    const offError = conn.onError((failure) => error(failure.message));
    return () => {
      offSettled();
      offError();
    };
  }, [conn, error]);

  const viewLink = new URL(location.href);
  viewLink.search = new URLSearchParams({ board: boardKey, mode: "view" }).toString();
  const editLink = new URL(location.href);
  editLink.search = new URLSearchParams({ board: boardKey }).toString();

  return (
    <>
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true" />
          <span className="brand-name">Tandem</span>
          <span className="board-key" title="Board">
            {boardKey}
          </span>
        </div>
        <PresenceList conn={conn} me={{ name, viewer }} />
        <StatusBadge conn={conn} />
        <div className="me" style={{ "--c": colorOf(name) } as CSSProperties}>
          <span className="avatar" aria-hidden="true">
            {initials(name)}
          </span>
          <span id="me-name">{name}</span>
          <DevtoolsButton client={client} />
          <button
            id="sign-out"
            className="ghost"
            type="button"
            disabled={pending > 0}
            title={pending > 0 ? "Wait until your changes are saved" : ""}
            onClick={() => {
              if (pending === 0) onSignOut();
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      {viewer ? (
        <div id="viewer-banner" className="banner">
          <strong>Read-only view. </strong>You see every change live, but cannot edit the notes or the todos.
        </div>
      ) : null}
      <main className="board">
        <NotesPanel conn={conn} viewer={viewer} editorRef={editor} />
        <TodosPanel conn={conn} name={name} viewer={viewer} />
      </main>
      <footer className="foot">
        <span>Share this board: </span>
        <a id="view-link" href={viewLink.toString()} target="_blank" rel="noopener">
          read-only link
        </a>
        <span aria-hidden="true"> · </span>
        <a id="edit-link" href={editLink.toString()} target="_blank" rel="noopener">
          editor link
        </a>
        <span className="foot-note">Works offline: changes wait in this browser and sync when you are back.</span>
      </footer>
      <Toasts toasts={toasts} dismiss={dismiss} />
    </>
  );
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

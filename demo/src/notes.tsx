/**
 * The shared notes panel: the CodeMirror editor (editor.ts) made once per connection,
 * bound to the notes' Y.Text as soon as there is one, and bound again when the client
 * replaces the doc (a rejected or refused edit) or the text itself is replaced.
 */
import { useEffect, useRef, useState, useSyncExternalStore, type RefObject } from "react";
import * as Y from "yjs";
import type { BoardConnection } from "./board-connection.ts";
import { NotesEditor } from "./editor.ts";

/** The notes' Y.Text in the connection's current doc (null before the state arrives). */
function useNotesText(conn: BoardConnection): Y.Text | null {
  return useSyncExternalStore(
    (notify) => {
      const offChange = conn.onChange(notify);
      const offDoc = conn.onDoc(notify);
      return () => {
        offChange();
        offDoc();
      };
    },
    () => {
      const text = conn.doc.getMap("state").get("notes");
      return text instanceof Y.Text ? text : null;
    },
  );
}

export function NotesPanel({ conn, viewer, editorRef }: { conn: BoardConnection; viewer: boolean; editorRef: RefObject<NotesEditor | null> }) {
  const host = useRef<HTMLDivElement>(null);
  const [editor, setEditor] = useState<NotesEditor | null>(null);
  const text = useNotesText(conn);
  useEffect(() => {
    const made = new NotesEditor(host.current!, conn.awareness, viewer);
    editorRef.current = made;
    setEditor(made);
    return () => {
      if (editorRef.current === made) editorRef.current = null;
      made.destroy();
    };
  }, [conn, viewer, editorRef]);
  useEffect(() => {
    if (editor !== null && text !== null) editor.bind(conn.doc);
  }, [editor, text, conn]);
  return (
    <section className="panel notes-panel">
      <h2>Notes</h2>
      <div id="notes" className="editor" ref={host} />
    </section>
  );
}

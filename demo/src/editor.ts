/**
 * The shared notes: CodeMirror 6 bound to the board's Y.Text (`state.notes`) through
 * y-codemirror.next, with remote cursors from awareness. The binding follows `conn.doc`:
 * it is made once the text exists (first load or sync) and made again when the client
 * replaces the doc (a rejected or refused edit: `conn.onDoc`).
 */
import { EditorState, Prec, type Extension } from "@codemirror/state";
import { EditorView, highlightActiveLine, keymap, placeholder } from "@codemirror/view";
import { minimalSetup } from "codemirror";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import * as Y from "yjs";
import type { Awareness } from "y-protocols/awareness";

export class NotesEditor {
  readonly view: EditorView;
  private text: Y.Text | null = null;
  private undo: Y.UndoManager | null = null;

  constructor(
    parent: HTMLElement,
    private readonly awareness: Awareness,
    private readonly readOnly: boolean,
  ) {
    this.view = new EditorView({ parent, state: EditorState.create({ doc: "", extensions: this.extensions(null) }) });
  }

  /** Binds to the doc's notes if they are not bound yet (a new doc, or the text just arrived). */
  bind(doc: Y.Doc): void {
    const text = doc.getMap("state").get("notes");
    if (!(text instanceof Y.Text) || text === this.text) return;
    this.undo?.destroy();
    this.text = text;
    this.undo = this.readOnly ? null : new Y.UndoManager(text);
    const selection = this.view.state.selection.main;
    const content = text.toString();
    const clamp = (n: number) => Math.min(n, content.length);
    this.view.setState(
      EditorState.create({ doc: content, selection: { anchor: clamp(selection.anchor), head: clamp(selection.head) }, extensions: this.extensions(text) }),
    );
    this.view.dom.dataset.bound = "true";
  }

  destroy(): void {
    this.undo?.destroy();
    this.view.destroy();
  }

  private extensions(text: Y.Text | null): Extension[] {
    const editable = text !== null && !this.readOnly;
    return [
      // Undo/redo go through Y.UndoManager (only this user's edits), ahead of CodeMirror's history.
      Prec.high(keymap.of(yUndoManagerKeymap)),
      minimalSetup,
      highlightActiveLine(),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ "aria-label": "Shared notes" }),
      placeholder(text === null ? "Loading notes…" : this.readOnly ? "No notes yet." : "Write something — everyone here sees it as you type."),
      EditorState.readOnly.of(!editable),
      EditorView.editable.of(editable),
      text === null ? [] : yCollab(text, this.awareness, { undoManager: this.undo ?? false }),
    ];
  }
}

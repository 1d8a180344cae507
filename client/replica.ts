/**
 * A client's replica of one actor's document, as two docs (DESIGN §11):
 * - `confirmed`: only what the server has acknowledged;
 * - `doc`: confirmed + this client's unconfirmed direct edits — what editors bind to.
 * Server updates go to both. An accepted edit moves to `confirmed`. A rejected edit, and
 * every local edit after it, are discarded by replacing `doc` with a copy of `confirmed`
 * (a Y.Doc cannot drop items; undoing would create new items that depend on them).
 */
import * as Y from "yjs";
import { Draft, stateRoot } from "../shared/state/index.ts";

/** Origin of updates that came from the server or from storage (never sent as edits). */
export const REMOTE = Symbol("tandem.remote");

export interface PendingEdit {
  readonly id: number;
  readonly update: Uint8Array;
  /** Where the edit is stored until it is answered. */
  storageKey?: string;
}

const READ_ONLY = "conn.state is a read-only view: change state through actions, or edit conn.doc";

export class Replica {
  private confirmedDoc = new Y.Doc();
  private current = new Y.Doc();
  private view: Draft;
  /** Whether any state has arrived (from the server or from storage). */
  hasState = false;
  /** Direct edits sent (or to send) and not yet answered, in order. */
  readonly pendingEdits: PendingEdit[] = [];
  private nextEditId = 1;

  constructor(
    /** A local change of `doc` (an editor): the subscription stores, sends or refuses it. */
    private readonly onLocalUpdate: (edit: PendingEdit) => void,
    /** `doc` was replaced: editors must bind to the new one. */
    private readonly onReplaced: (doc: Y.Doc, discarded: PendingEdit[]) => void,
    /** `doc` changed (any origin). */
    private readonly onChanged: () => void,
  ) {
    this.view = new Draft(stateRoot(this.current), READ_ONLY);
    this.listen(this.current);
  }

  get doc(): Y.Doc {
    return this.current;
  }

  get confirmed(): Y.Doc {
    return this.confirmedDoc;
  }

  /** The live read view of the state (over `doc`). */
  get state(): Record<string, unknown> {
    return this.view.view;
  }

  get root(): Y.Map<unknown> {
    return stateRoot(this.current);
  }

  applyRemote(update: Uint8Array): void {
    if (update.length === 0) return;
    Y.applyUpdate(this.confirmedDoc, update, REMOTE);
    Y.applyUpdate(this.current, update, REMOTE);
    this.hasState = true;
  }

  /** An unanswered edit loaded from storage: part of `doc`, sent again after subscribing. */
  restoreEdit(update: Uint8Array, storageKey: string): void {
    Y.applyUpdate(this.current, update, REMOTE);
    this.pendingEdits.push({ id: this.nextEditId++, update, storageKey });
  }

  /** The server accepted an edit: it is confirmed now. */
  accept(id: number): PendingEdit | undefined {
    const index = this.pendingEdits.findIndex((edit) => edit.id === id);
    if (index < 0) return undefined;
    const [edit] = this.pendingEdits.splice(index, 1);
    Y.applyUpdate(this.confirmedDoc, edit!.update, REMOTE);
    return edit;
  }

  /** The server rejected an edit: it and every later local edit are discarded. */
  reject(id: number): PendingEdit[] {
    const index = this.pendingEdits.findIndex((edit) => edit.id === id);
    if (index < 0) return [];
    const discarded = this.pendingEdits.splice(index);
    this.replaceDoc(Y.encodeStateAsUpdate(this.confirmedDoc), discarded);
    return discarded;
  }

  /** Throws away every unconfirmed local edit (read-only replicas). */
  discardLocal(): PendingEdit[] {
    const discarded = this.pendingEdits.splice(0);
    this.replaceDoc(Y.encodeStateAsUpdate(this.confirmedDoc), discarded);
    return discarded;
  }

  /** Forgets everything (a reset, or data that cannot be trusted): the server fills it again. */
  clear(): PendingEdit[] {
    const discarded = this.pendingEdits.splice(0);
    this.confirmedDoc.destroy();
    this.confirmedDoc = new Y.Doc();
    this.hasState = false;
    this.replaceDoc(null, discarded);
    return discarded;
  }

  destroy(): void {
    this.view.close();
    this.current.destroy();
    this.confirmedDoc.destroy();
  }

  private replaceDoc(content: Uint8Array | null, discarded: PendingEdit[]): void {
    const old = this.current;
    const next = new Y.Doc();
    if (content !== null) Y.applyUpdate(next, content, REMOTE);
    for (const edit of this.pendingEdits) Y.applyUpdate(next, edit.update, REMOTE);
    old.off("update", this.listener);
    this.current = next;
    this.view.close();
    this.view = new Draft(stateRoot(next), READ_ONLY);
    this.listen(next);
    this.onReplaced(next, discarded);
    this.onChanged();
  }

  private readonly listener = (update: Uint8Array, origin: unknown): void => {
    if (origin !== REMOTE) {
      const edit: PendingEdit = { id: this.nextEditId++, update };
      this.pendingEdits.push(edit);
      this.onLocalUpdate(edit);
    }
    this.onChanged();
  };

  private listen(doc: Y.Doc): void {
    doc.on("update", this.listener);
  }
}

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

/** Origin of updates that came from the server (never sent back as edits). */
export const REMOTE = Symbol("tandem.remote");

export interface PendingEdit {
  readonly id: number;
  readonly update: Uint8Array;
}

const READ_ONLY = "conn.state is a read-only view: change state through actions, or edit conn.doc";

export class Replica {
  readonly confirmed = new Y.Doc();
  private current = new Y.Doc();
  private view: Draft;
  /** Whether any state has arrived (from the server or from storage). */
  hasState = false;
  /** Direct edits sent (or to send) and not yet answered, in order. */
  readonly pendingEdits: PendingEdit[] = [];
  private nextEditId = 1;

  constructor(
    /** A local change of `doc` (an editor): the subscription sends or refuses it. */
    private readonly onLocalUpdate: (edit: PendingEdit) => void,
    /** `doc` was replaced (a rejected edit): editors must bind to the new one. */
    private readonly onReplaced: (doc: Y.Doc, discarded: PendingEdit[]) => void,
  ) {
    this.view = new Draft(stateRoot(this.current), READ_ONLY);
    this.listen(this.current);
  }

  get doc(): Y.Doc {
    return this.current;
  }

  /** The live read view of the state (over `doc`). */
  get state(): Record<string, unknown> {
    return this.view.view;
  }

  applyRemote(update: Uint8Array): void {
    if (update.length === 0) return;
    Y.applyUpdate(this.confirmed, update, REMOTE);
    Y.applyUpdate(this.current, update, REMOTE);
  }

  /** The server accepted an edit: it is confirmed now. */
  accept(id: number): void {
    const index = this.pendingEdits.findIndex((edit) => edit.id === id);
    if (index < 0) return;
    const [edit] = this.pendingEdits.splice(index, 1);
    Y.applyUpdate(this.confirmed, edit!.update, REMOTE);
  }

  /** The server rejected an edit: it and every later local edit are discarded. */
  reject(id: number): PendingEdit[] {
    const index = this.pendingEdits.findIndex((edit) => edit.id === id);
    if (index < 0) return [];
    const discarded = this.pendingEdits.splice(index);
    this.resetToConfirmed(discarded);
    return discarded;
  }

  /** Throws away every unconfirmed local edit (read-only replicas, a reset). */
  discardLocal(extra: PendingEdit[] = []): PendingEdit[] {
    const discarded = [...this.pendingEdits.splice(0), ...extra];
    this.resetToConfirmed(discarded);
    return discarded;
  }

  destroy(): void {
    this.current.destroy();
    this.confirmed.destroy();
  }

  private resetToConfirmed(discarded: PendingEdit[]): void {
    const old = this.current;
    const next = new Y.Doc();
    Y.applyUpdate(next, Y.encodeStateAsUpdate(this.confirmed), REMOTE);
    // Confirmed edits that are still pending (none after a reject) would be re-applied here.
    for (const edit of this.pendingEdits) Y.applyUpdate(next, edit.update, REMOTE);
    old.off("update", this.localListener);
    this.current = next;
    this.view.close();
    this.view = new Draft(stateRoot(next), READ_ONLY);
    this.listen(next);
    this.onReplaced(next, discarded);
  }

  private readonly localListener = (update: Uint8Array, origin: unknown): void => {
    if (origin === REMOTE) return;
    const edit = { id: this.nextEditId++, update };
    this.pendingEdits.push(edit);
    this.onLocalUpdate(edit);
  };

  private listen(doc: Y.Doc): void {
    doc.on("update", this.localListener);
  }
}

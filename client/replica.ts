/**
 * A client's replica of one actor's document (README.md "Local-first"):
 * - `doc`: confirmed + this client's unconfirmed direct edits — what editors bind to;
 * - `confirmed`: only what the server has acknowledged.
 *
 * Most of the time there is one document: while no local edit is pending, the confirmed state
 * *is* `doc`, and a server update is applied once. The confirmed state gets a document of its
 * own (a `ConfirmedCopy`, copied from `doc` just before a local change) only around local
 * edits; server updates and accepted edits are queued for it and applied only when it is read
 * (a state vector, a compaction, a rejection). Once nothing is pending and catching the copy
 * up would cost more than copying `doc` again, the copy is dropped: a reader never pays for a
 * second document, and a writer pays for it at most about once per document-size of traffic.
 *
 * A rejected edit, and every local edit after it, are discarded by replacing `doc` with a
 * copy of the confirmed state (a Y.Doc cannot drop items; undoing would create new items that
 * depend on them).
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

/** Queued updates a copy catches up with at the latest while local edits are pending (a memory bound). */
const MAX_QUEUED = 512;

/**
 * The confirmed state as a document of its own: a copy of `doc` taken before a local change,
 * plus the confirmed updates it has not applied yet (applied in one transaction when read).
 */
class ConfirmedCopy {
  readonly doc = new Y.Doc();
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  /** What applying the copy's content cost, in update bytes: the price of copying again. */
  private bytes: number;

  constructor(snapshot: Uint8Array) {
    Y.applyUpdate(this.doc, snapshot, REMOTE);
    this.bytes = snapshot.length;
  }

  add(update: Uint8Array): void {
    this.queued.push(update);
    this.queuedBytes += update.length;
  }

  get queueLength(): number {
    return this.queued.length;
  }

  /** Catching up would cost more than a fresh copy. */
  get stale(): boolean {
    return this.queuedBytes > this.bytes || this.queued.length > MAX_QUEUED;
  }

  /** The copy with every queued update applied. */
  caughtUp(): Y.Doc {
    if (this.queued.length === 0) return this.doc;
    const queued = this.queued;
    this.queued = [];
    this.bytes += this.queuedBytes;
    this.queuedBytes = 0;
    this.doc.transact(() => {
      for (const update of queued) Y.applyUpdate(this.doc, update, REMOTE);
    }, REMOTE);
    return this.doc;
  }

  destroy(): void {
    this.doc.destroy();
  }
}

export class Replica {
  private current = new Y.Doc();
  /** The confirmed state when it may differ from `doc`; null: it is `doc`. Never null while edits are pending. */
  private copy: ConfirmedCopy | null = null;
  private view: Draft;
  /** Whether any state has arrived (from the server or from storage). */
  hasState = false;
  /** Direct edits sent (or to send) and not yet answered, in order. */
  readonly pendingEdits: PendingEdit[] = [];
  private nextEditId = 1;
  /** Whether `doc` has the "update" listener (see `afterTransactionCleanup`). */
  private capturing = false;

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

  /** The confirmed state as a document (read it, never change it). */
  get confirmed(): Y.Doc {
    if (this.copy === null || this.pendingEdits.length === 0) return this.current;
    return this.copy.caughtUp();
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
    // Queued first: a listener of `doc` may read the confirmed state during the apply.
    this.copy?.add(update);
    Y.applyUpdate(this.current, update, REMOTE);
    this.hasState = true;
    this.trimCopy();
  }

  /** An unanswered edit loaded from storage: part of `doc`, sent again after subscribing. */
  restoreEdit(update: Uint8Array, storageKey: string): void {
    this.ensureCopy();
    Y.applyUpdate(this.current, update, REMOTE);
    this.pendingEdits.push({ id: this.nextEditId++, update, storageKey });
  }

  /** The server accepted an edit: it is confirmed now. */
  accept(id: number): PendingEdit | undefined {
    const index = this.pendingEdits.findIndex((edit) => edit.id === id);
    if (index < 0) return undefined;
    const [edit] = this.pendingEdits.splice(index, 1);
    this.copy!.add(edit!.update);
    this.trimCopy();
    return edit;
  }

  /** The server rejected an edit: it and every later local edit are discarded. */
  reject(id: number): PendingEdit[] {
    const index = this.pendingEdits.findIndex((edit) => edit.id === id);
    if (index < 0) return [];
    const content = Y.encodeStateAsUpdate(this.copy!.caughtUp());
    const discarded = this.pendingEdits.splice(index);
    this.replaceDoc(content, discarded);
    return discarded;
  }

  /** Throws away every unconfirmed local edit (read-only replicas). */
  discardLocal(): PendingEdit[] {
    if (this.pendingEdits.length === 0) return [];
    const content = Y.encodeStateAsUpdate(this.copy!.caughtUp());
    const discarded = this.pendingEdits.splice(0);
    this.replaceDoc(content, discarded);
    return discarded;
  }

  /**
   * A follower tab takes over: from now on the confirmed state and the pending edits are what
   * storage holds, and `doc` stays as it is (editors keep their binding). Whatever `doc` shows
   * beyond them — this tab's edits the old leader never stored, or what it had not written
   * yet — becomes one more pending edit, returned so that the caller stores and sends it.
   */
  rebase(confirmed: readonly Uint8Array[], stored: readonly { readonly update: Uint8Array; readonly key: string }[]): PendingEdit | null {
    this.pendingEdits.splice(0);
    this.dropCopy();
    const base = new Y.Doc();
    for (const update of confirmed) Y.applyUpdate(base, update, REMOTE);
    this.copy = new ConfirmedCopy(Y.encodeStateAsUpdate(base));
    for (const update of confirmed) Y.applyUpdate(this.current, update, REMOTE);
    for (const edit of stored) {
      Y.applyUpdate(base, edit.update, REMOTE);
      Y.applyUpdate(this.current, edit.update, REMOTE);
      this.pendingEdits.push({ id: this.nextEditId++, update: edit.update, storageKey: edit.key });
    }
    let beyond: Uint8Array | null = null;
    const capture = (update: Uint8Array) => void (beyond = update);
    base.on("update", capture);
    Y.applyUpdate(base, Y.encodeStateAsUpdate(this.current, Y.encodeStateVector(base)), REMOTE);
    base.off("update", capture);
    base.destroy();
    if (confirmed.length > 0 || stored.length > 0) this.hasState = true;
    let extra: PendingEdit | null = null;
    if (beyond !== null) this.pendingEdits.push((extra = { id: this.nextEditId++, update: beyond }));
    if (this.pendingEdits.length === 0) this.dropCopy(); // nothing pending: the confirmed state is `doc`
    this.onChanged();
    return extra;
  }

  /** Forgets everything (a reset, or data that cannot be trusted): the server fills it again. */
  clear(): PendingEdit[] {
    const discarded = this.pendingEdits.splice(0);
    this.dropCopy();
    this.hasState = false;
    this.replaceDoc(null, discarded);
    return discarded;
  }

  destroy(): void {
    this.view.close();
    this.current.destroy();
    this.dropCopy();
  }

  /** Before `doc` changes locally: the confirmed state is `doc` as it is now. */
  private ensureCopy(): void {
    if (this.copy === null) this.copy = new ConfirmedCopy(Y.encodeStateAsUpdate(this.current));
  }

  /** Keeps the copy's queue bounded; drops the copy once it is not worth catching up. */
  private trimCopy(): void {
    const copy = this.copy;
    if (copy === null) return;
    if (this.pendingEdits.length === 0) {
      if (copy.stale) this.dropCopy();
    } else if (copy.queueLength > MAX_QUEUED) copy.caughtUp();
  }

  private dropCopy(): void {
    this.copy?.destroy();
    this.copy = null;
  }

  private replaceDoc(content: Uint8Array | null, discarded: PendingEdit[]): void {
    const old = this.current;
    const next = new Y.Doc();
    if (content !== null) Y.applyUpdate(next, content, REMOTE);
    for (const edit of this.pendingEdits) Y.applyUpdate(next, edit.update, REMOTE);
    old.off("update", this.localUpdate);
    old.off("beforeTransaction", this.beforeTransaction);
    old.off("afterTransactionCleanup", this.afterTransactionCleanup);
    this.current = next;
    this.view.close();
    this.view = new Draft(stateRoot(next), READ_ONLY);
    this.listen(next);
    this.onReplaced(next, discarded);
    this.onChanged();
  }

  private readonly beforeTransaction = (transaction: Y.Transaction): void => {
    if (transaction.origin !== REMOTE && this.pendingEdits.length === 0) this.ensureCopy();
  };

  /**
   * Yjs encodes a transaction as an update only while the doc has "update" listeners, so the
   * replica listens only around its local transactions (an edit to store and send): the
   * server's updates, most of what a replica applies, are never encoded again.
   */
  private readonly afterTransactionCleanup = (transaction: Y.Transaction): void => {
    const local = transaction.origin !== REMOTE;
    if (local !== this.capturing) {
      this.capturing = local;
      if (local) transaction.doc.on("update", this.localUpdate);
      else transaction.doc.off("update", this.localUpdate);
    }
    if (!local && transaction.changed.size > 0) this.onChanged();
  };

  private readonly localUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === REMOTE) return;
    const edit: PendingEdit = { id: this.nextEditId++, update };
    this.pendingEdits.push(edit);
    this.onLocalUpdate(edit);
    this.onChanged();
  };

  private listen(doc: Y.Doc): void {
    this.capturing = false;
    doc.on("beforeTransaction", this.beforeTransaction);
    doc.on("afterTransactionCleanup", this.afterTransactionCleanup);
  }
}

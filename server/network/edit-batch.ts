/**
 * A channel's direct edits, applied in batches. The edit frames a socket delivers back to
 * back (one read holds many keystrokes of an editor) are applied as one edit, their updates
 * in one transaction: one task, one check, one `canEdit`, one commit and one stored record
 * instead of one each (and no `Y.mergeUpdates` of a thousand keystrokes, which cost more
 * than applying them). Every edit is still answered, by its own id.
 *
 * A batch is only an optimisation: when the merged edit is refused, its edits are applied
 * one by one, so each gets the answer it would have had alone (those before a bad one are
 * accepted). Not batched: edits of an actor with `onEdit`, which validates the state each
 * edit produces, one at a time. A frame of another kind ends the open batch, so edits never
 * overtake what the client sent after them.
 */
import type { Edit } from "../../shared/protocol/index.ts";

/** A batch closes at this many edits or bytes (a merged edit stays an ordinary size). */
const MAX_EDITS = 1024;
const MAX_BYTES = 256 * 1024;

export interface EditTarget {
  /** Resolves with whether the channel is subscribed (edits wait for it). */
  ready(): Promise<boolean>;
  /** Whether edits may be merged (no per-edit validation hook). */
  mergeable(): boolean;
  /** Applies the updates as one edit, in order, in one transaction; rejects when it is refused. */
  apply(updates: readonly Uint8Array[]): Promise<void>;
  /** Answers one edit: accepted (error null) or refused. */
  answer(edit: Edit, error: unknown): void;
  /** Answers one edit that arrived when the channel was not (or no longer) subscribed. */
  notSubscribed(edit: Edit): void;
}

export class EditBatcher {
  private open: Edit[] | null = null;
  private openBytes = 0;

  constructor(private readonly target: EditTarget) {}

  /** Takes an edit frame; resolves once it is answered (or handed to a batch that will answer it). */
  add(edit: Edit): Promise<void> {
    if (this.open !== null && this.open.length < MAX_EDITS && this.openBytes + edit.update.length <= MAX_BYTES) {
      this.open.push(edit);
      this.openBytes += edit.update.length;
      return Promise.resolve();
    }
    const batch = [edit];
    this.open = batch;
    this.openBytes = edit.update.length;
    return this.run(batch);
  }

  /** Another kind of frame arrived: later edits go in a new batch. */
  close(): void {
    this.open = null;
  }

  private async run(batch: Edit[]): Promise<void> {
    // Frames read meanwhile (this tick) join the batch; it closes when the subscription is there.
    const ready = await this.target.ready();
    if (this.open === batch) this.open = null;
    if (!ready) {
      for (const edit of batch) this.target.notSubscribed(edit);
      return;
    }
    if (batch.length > 1 && this.target.mergeable()) {
      try {
        await this.target.apply(batch.map((edit) => edit.update));
        for (const edit of batch) this.target.answer(edit, null);
        return;
      } catch {
        // one of them is refused: find out which, one by one
      }
    }
    await Promise.all(batch.map((edit) => this.one(edit)));
  }

  private async one(edit: Edit): Promise<void> {
    try {
      await this.target.apply([edit.update]);
      this.target.answer(edit, null);
    } catch (error) {
      this.target.answer(edit, error);
    }
  }
}

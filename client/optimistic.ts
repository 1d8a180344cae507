/**
 * The optimistic layer (README.md "Local-first: offline, optimistic, exactly once"). What the UI reads obeys, at every moment:
 *
 *   view = confirmed ⊕ replay(predictions of pending actions, in order)
 *
 * Predictions run against a draft over the replica's doc; the draft is never committed, so
 * no prediction ever becomes a Yjs item, reaches storage or the server. A new pending action
 * is replayed on top of the current draft; anything else (a server update, an ack, a
 * rejection, a local edit) invalidates the draft, which is rebuilt on the next read. A
 * prediction that throws is left out (its partial writes with it) and reported once.
 */
import type * as Y from "yjs";
import { Draft } from "../shared/state/index.ts";

export type Predictor = (state: never, ...args: never[]) => void;

/** A pending action as the optimistic layer sees it (the same object while it is pending). */
export interface PredictedAction {
  readonly name: string;
  readonly args: readonly unknown[];
}

const READ_ONLY = "conn.state is a read-only view: change state through actions, or edit conn.doc";

export class OptimisticView {
  private draft: Draft | null = null;
  private replayed = 0;
  private dirty = true;
  private readonly failed = new WeakSet<PredictedAction>();

  constructor(
    private readonly predictors: Readonly<Record<string, Predictor>>,
    private readonly onPredictionError: (action: PredictedAction, error: unknown) => void,
  ) {}

  hasPredictor(name: string): boolean {
    return Object.hasOwn(this.predictors, name);
  }

  /** Something other than a new pending action changed: rebuild on the next read. */
  invalidate(): void {
    this.dirty = true;
  }

  /** The view for `pending` (oldest first) over `root`. */
  view(root: Y.Map<unknown>, pending: readonly PredictedAction[]): Record<string, unknown> {
    if (this.dirty || this.draft === null || this.draft.rootMap !== root || this.replayed > pending.length) this.reset(root);
    while (this.replayed < pending.length) {
      const action = pending[this.replayed]!;
      if (!this.failed.has(action) && !this.predict(this.draft!, action)) {
        this.failed.add(action);
        this.reset(root); // its partial writes go with the draft; replay the others again
        continue;
      }
      this.replayed++;
    }
    return this.draft!.view;
  }

  dispose(): void {
    this.draft?.close();
    this.draft = null;
  }

  private reset(root: Y.Map<unknown>): void {
    this.draft?.close();
    this.draft = new Draft(root, READ_ONLY);
    this.replayed = 0;
    this.dirty = false;
  }

  private predict(draft: Draft, action: PredictedAction): boolean {
    if (!this.hasPredictor(action.name)) return true;
    draft.readOnly = null;
    try {
      (this.predictors[action.name] as (state: unknown, ...args: unknown[]) => void)(draft.view, ...structuredClone(action.args));
      return true;
    } catch (error) {
      this.onPredictionError(action, error);
      return false;
    } finally {
      draft.readOnly = READ_ONLY;
    }
  }
}

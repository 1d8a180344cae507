/**
 * A direct edit of the replica by a connection (an editor binding), as the two steps of a
 * commit-pipeline task (commit.ts): its hooks are the task's code — the edit checked
 * (edit-check.ts), allowed by `canEdit`, validated by `onEdit` against the state it would
 * produce — and its updates are what the commit writes, in one transaction. A refused edit
 * changes nothing.
 */
import * as Y from "yjs";
import type { AnyActorConfig } from "../../shared/actor.ts";
import { Forbidden, InternalError, InvalidArguments } from "../../shared/errors.ts";
import { Draft, stateRoot } from "../../shared/state/index.ts";
import type { WriteStep } from "./commit.ts";
import type { ConnImpl } from "./connection.ts";
import { checkEditUpdates, hasPending } from "./edit-check.ts";
import { identityDigest } from "./exactly-once.ts";
import type { Task, TaskContext } from "./task.ts";
import type { YjsWriters } from "./yjs-writers.ts";

export interface EditSteps {
  /** The task's code: the checks and hooks, before the document changes. */
  readonly validate: (c: TaskContext) => Promise<undefined>;
  /** The commit's write: the updates applied in one transaction. */
  readonly write: WriteStep;
}

/**
 * An edit — one update, or several a socket delivered back to back, in one transaction —
 * as a task: its hooks are the task's code, its updates what the commit writes.
 */
export function editSteps(doc: Y.Doc, config: AnyActorConfig, yjsWriters: YjsWriters, conn: ConnImpl, updates: readonly Uint8Array[]): EditSteps {
  // Which Yjs clients the edit writes as, and whether this identity may (yjs-writers.ts):
  // the identity the connection has when the task runs.
  let identity = "";
  let writes: number[] = [];
  const validate = async (c: TaskContext) => {
    identity = identityDigest(conn.auth, config.identity);
    writes = checkEditUpdates(doc, updates, (client) => yjsWriters.mayWrite(client, identity, doc.clientID));
    // The hooks see the edit as one update, merged only if one of them reads it.
    let update: Uint8Array | null = updates.length === 1 ? updates[0]! : null;
    const context = Object.create(c, {
      update: { get: () => (update ??= Y.mergeUpdates(updates as Uint8Array[])), enumerable: true },
    }) as TaskContext & { update: Uint8Array };
    if (!config.canEdit || !(await config.canEdit(context))) {
      throw new Forbidden("This connection may not edit the state directly");
    }
    if (config.onEdit) {
      // Let onEdit see the state the edit would produce, on a copy: nothing changes if it throws.
      const trial = new Y.Doc();
      Y.applyUpdate(trial, Y.encodeStateAsUpdate(doc));
      Y.transact(trial, () => {
        for (const u of updates) Y.applyUpdate(trial, u);
      });
      if (hasPending(trial)) throw new InvalidArguments("The edit depends on changes the actor does not have");
      const view = new Draft(stateRoot(trial));
      const trialContext = Object.create(context, { state: { value: view.view } }) as typeof context;
      try {
        await config.onEdit(trialContext);
      } finally {
        view.close();
        trial.destroy();
      }
    }
    return undefined;
  };
  // The updates in one transaction; what was new to the document is what the commit writes.
  const write = (task: Task) => {
    task.draft.close();
    let applied: Uint8Array | null = null;
    const capture = (u: Uint8Array, o: unknown) => {
      if (o === conn) applied = applied === null ? u : Y.mergeUpdates([applied, u]);
    };
    doc.on("update", capture);
    try {
      Y.transact(
        doc,
        () => {
          for (const u of updates) Y.applyUpdate(doc, u, conn);
        },
        conn,
      );
    } finally {
      doc.off("update", capture);
    }
    // The check refuses what Yjs would park; anything parked all the same means this copy
    // is no longer clean (execute then reloads the actor).
    if (hasPending(doc)) throw new InternalError("An accepted edit left parts Yjs could not integrate");
    yjsWriters.claim(writes, identity);
    return applied;
  };
  return { validate, write };
}

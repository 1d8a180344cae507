/**
 * The inspector's admin actions, each logged (warn: who asked, from where, what it did):
 *
 * - wake: loads an actor that is asleep (as any call would); a live one stays as it is.
 * - sleep: stops a live actor as idle sleep would (onStop after the work already queued,
 *   connections closed — their clients reconnect and wake it again).
 * - reset a client id: forgets every exactly-once record of that client id on that actor,
 *   whatever identity sent them. What it means for safety: the actor no longer knows which
 *   of that client's seqs it applied, so an action of that client that was applied but
 *   whose answer the client never got runs a *second* time if the client resends it. Use it
 *   for a client whose seqs are wrong (it restored an old copy of its storage, so its new
 *   actions hit old records and get stale answers or `result_not_kept`; or it is refused for
 *   a seq jump), once that client has no unanswered actions — or accept that its unanswered
 *   ones may run twice. The reset runs in the actor's mailbox after the work queued before
 *   it and is durable (the records are deleted by a commit) before the answer; records other
 *   client ids hold are untouched.
 */
import { ActorNotFound, InvalidArguments, echo } from "../../shared/errors.ts";
import type { ServerLogger } from "../log.ts";
import type { ActorInstance } from "../runtime/actor-instance.ts";
import type { ActorRuntime } from "../runtime/actor-runtime.ts";

/** Who asked, for the log. */
export interface AdminCaller {
  readonly address: string;
}

/** The longest client id accepted by a reset (a client's is 21 characters; the hello bounds it too). */
const MAX_CLIENT_ID_LENGTH = 128;

export async function wakeActor(runtime: ActorRuntime, log: ServerLogger, name: string, id: string, caller: AdminCaller): Promise<ActorInstance> {
  const instance = await runtime.resolveById(name, id);
  log.warn({ inspector: "wake", actor: name, actorId: id, by: caller.address }, "inspector: actor woken");
  return instance;
}

export async function sleepActor(runtime: ActorRuntime, log: ServerLogger, name: string, id: string, caller: AdminCaller): Promise<boolean> {
  const instance = liveOf(runtime, name, id);
  if (instance === null) return false;
  log.warn({ inspector: "sleep", actor: name, actorId: id, by: caller.address }, "inspector: actor put to sleep");
  await instance.stop("put to sleep by the inspector");
  return true;
}

export async function resetClient(runtime: ActorRuntime, log: ServerLogger, name: string, id: string, clientId: unknown, caller: AdminCaller): Promise<number> {
  if (typeof clientId !== "string" || clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH || clientId.includes("\u0000")) {
    throw new InvalidArguments(`clientId must be a string of 1 to ${MAX_CLIENT_ID_LENGTH} characters`);
  }
  const instance = await runtime.resolveById(name, id);
  const removed = await instance.forgetClient(clientId);
  log.warn({ inspector: "reset-client", actor: name, actorId: id, clientId, removed, by: caller.address }, "inspector: exactly-once records of a client id forgotten");
  return removed;
}

/** The live instance of (name, id), or null; an id of another kind is not found. */
export function liveOf(runtime: ActorRuntime, name: string, id: string): ActorInstance | null {
  runtime.config(name);
  const instance = runtime.loaded.get(id);
  if (instance === undefined) return null;
  if (instance.name !== name) throw new ActorNotFound(`Actor ${echo(id)} is not a "${echo(name)}"`);
  return instance;
}

/**
 * One mailbox task of an actor (an action, a hook, a schedule firing) and the context `c`
 * its code receives. Everything the task does is buffered here — state writes in the draft,
 * events, schedule changes — and takes effect only if the task succeeds and its commit is
 * durable (see actor-instance.ts).
 */
import type { ActionContext, Logger, Schedule } from "../../shared/context.ts";
import { InvalidArguments } from "../../shared/errors.ts";
import { Draft } from "../../shared/state/index.ts";
import type { ScheduleEntry } from "../drivers/driver.ts";
import type { ConnImpl } from "./connection.ts";
import { checkPlainData } from "./plain-data.ts";

export interface PendingEvent {
  readonly targets: readonly ConnImpl[] | "all";
  readonly name: string;
  readonly payload: unknown;
}

/** What a context needs of its actor. */
export interface ContextHost {
  readonly name: string;
  readonly key: readonly string[];
  readonly id: string;
  readonly log: Logger;
  readonly conns: ReadonlyMap<string, ConnImpl>;
  privateState: unknown;
  vars: unknown;
  emit(targets: readonly ConnImpl[] | "all", name: string, payload: unknown): void;
  hasSchedule(id: string): boolean;
  client(): unknown;
}

let nextScheduleId = 0;

export class Task {
  readonly events: PendingEvent[] = [];
  readonly schedulesPut: ScheduleEntry[] = [];
  readonly schedulesRemoved: string[] = [];
  sleepRequested = false;
  readonly context: ActionContext<unknown, unknown, unknown, unknown, unknown, Record<string, unknown>>;

  constructor(
    readonly draft: Draft,
    readonly conn: ConnImpl,
    host: ContextHost,
  ) {
    this.context = makeContext(this, host);
  }

  get scheduleChanged(): boolean {
    return this.schedulesPut.length > 0 || this.schedulesRemoved.length > 0;
  }
}

function makeSchedule(task: Task, host: ContextHost): Schedule {
  const add = (at: number, action: unknown, args: unknown[]): string => {
    if (typeof at !== "number" || !Number.isFinite(at)) throw new InvalidArguments("A schedule needs a finite time");
    if (typeof action !== "string") throw new InvalidArguments("A schedule names an action");
    const id = `s${Date.now().toString(36)}${(nextScheduleId++).toString(36)}`;
    checkPlainData(args, "schedule arguments", 0);
    task.schedulesPut.push({ id, at, action, args: structuredClone(args) });
    return id;
  };
  return {
    after: (ms, action, ...args) => add(Date.now() + Math.max(0, ms), action, args),
    at: (timestamp, action, ...args) => add(timestamp, action, args),
    cancel: (id) => {
      const added = task.schedulesPut.findIndex((entry) => entry.id === id);
      if (added >= 0) task.schedulesPut.splice(added, 1);
      else if (host.hasSchedule(id)) task.schedulesRemoved.push(id);
    },
  };
}

function makeContext(task: Task, host: ContextHost): Task["context"] {
  const schedule = makeSchedule(task, host);
  return {
    get state() {
      return task.draft.view;
    },
    set state(value: unknown) {
      task.draft.replaceRoot(value);
    },
    get privateState() {
      return host.privateState;
    },
    set privateState(value: unknown) {
      host.privateState = value;
    },
    get vars() {
      return host.vars;
    },
    set vars(value: unknown) {
      host.vars = value;
    },
    name: host.name,
    key: host.key,
    actorId: host.id,
    conns: host.conns,
    conn: task.conn,
    broadcast(name: string, payload: unknown) {
      host.emit("all", name, payload);
    },
    schedule,
    log: host.log,
    sleep() {
      task.sleepRequested = true;
    },
    client<R>() {
      return host.client() as never as import("../../shared/client-types.ts").InlineClient<R>;
    },
  };
}

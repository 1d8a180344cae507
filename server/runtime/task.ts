/**
 * One mailbox task of an actor (an action, a hook, a schedule firing) and the context `c`
 * its code receives. Everything the task does is buffered here — state writes in the draft,
 * events, schedule changes — and takes effect only if the task succeeds and its commit is
 * durable (see commit.ts).
 *
 * The context is one object per task whose members live on a shared prototype (a task is
 * created for every action: no closures per task), and `c.schedule` is made on first use.
 */
import type { ActionContext, Logger, Schedule } from "../../shared/context.ts";
import type { InlineClient } from "../../shared/client-types.ts";
import { InvalidArguments } from "../../shared/errors.ts";
import type { Draft } from "../../shared/state/index.ts";
import type { ScheduleEntry } from "../drivers/driver.ts";
import type { CallChain } from "./call-chain.ts";
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
  /** The inline client for code running with `chain` (the actors it is called from, itself last). */
  client(chain: CallChain): unknown;
}

export type TaskContext = ActionContext<unknown, unknown, unknown, unknown, unknown, Record<string, unknown>>;

let nextScheduleId = 0;

export class Task {
  readonly events: PendingEvent[] = [];
  readonly schedulesPut: ScheduleEntry[] = [];
  readonly schedulesRemoved: string[] = [];
  sleepRequested = false;
  readonly context: TaskContext;

  /** `chain`: the actors whose calls led here, this one last (refuses calls that would deadlock). */
  constructor(
    readonly draft: Draft,
    readonly conn: ConnImpl,
    readonly host: ContextHost,
    readonly chain: CallChain,
  ) {
    this.context = new Context(this) as unknown as TaskContext;
  }

  get scheduleChanged(): boolean {
    return this.schedulesPut.length > 0 || this.schedulesRemoved.length > 0;
  }

  addSchedule(at: number, action: unknown, args: unknown[]): string {
    if (typeof at !== "number" || !Number.isFinite(at)) throw new InvalidArguments("A schedule needs a finite time");
    if (typeof action !== "string") throw new InvalidArguments("A schedule names an action");
    const id = `s${Date.now().toString(36)}${(nextScheduleId++).toString(36)}`;
    checkPlainData(args, "schedule arguments", 0);
    this.schedulesPut.push({ id, at, action, args: structuredClone(args) });
    return id;
  }

  cancelSchedule(id: string): void {
    const added = this.schedulesPut.findIndex((entry) => entry.id === id);
    if (added >= 0) this.schedulesPut.splice(added, 1);
    else if (this.host.hasSchedule(id)) this.schedulesRemoved.push(id);
  }
}

const TASK: unique symbol = Symbol("tandem.task");
const SCHEDULE: unique symbol = Symbol("tandem.schedule");

/**
 * `c`. Members are accessors and methods of the prototype that reach the task through a
 * symbol-keyed field, so a context derived with `Object.create(c)` (edit hooks) works too.
 */
class Context {
  readonly [TASK]: Task;
  [SCHEDULE]: Schedule | undefined = undefined;

  constructor(task: Task) {
    this[TASK] = task;
  }

  get state(): unknown {
    return this[TASK].draft.view;
  }
  set state(value: unknown) {
    this[TASK].draft.replaceRoot(value);
  }
  get privateState(): unknown {
    return this[TASK].host.privateState;
  }
  set privateState(value: unknown) {
    this[TASK].host.privateState = value;
  }
  get vars(): unknown {
    return this[TASK].host.vars;
  }
  set vars(value: unknown) {
    this[TASK].host.vars = value;
  }
  get name(): string {
    return this[TASK].host.name;
  }
  get key(): readonly string[] {
    return this[TASK].host.key;
  }
  get actorId(): string {
    return this[TASK].host.id;
  }
  get conns(): ReadonlyMap<string, ConnImpl> {
    return this[TASK].host.conns;
  }
  get conn(): ConnImpl {
    return this[TASK].conn;
  }
  get log(): Logger {
    return this[TASK].host.log;
  }
  get schedule(): Schedule {
    return (this[SCHEDULE] ??= makeSchedule(this[TASK]));
  }
  broadcast(name: string, payload: unknown): void {
    this[TASK].host.emit("all", name, payload);
  }
  sleep(): void {
    this[TASK].sleepRequested = true;
  }
  client<R>(): InlineClient<R> {
    const task = this[TASK];
    return task.host.client(task.chain) as InlineClient<R>;
  }
}

function makeSchedule(task: Task): Schedule {
  return {
    after: (ms, action, ...args) => task.addSchedule(Date.now() + Math.max(0, ms), action, args),
    at: (timestamp, action, ...args) => task.addSchedule(timestamp, action, args),
    cancel: (id) => task.cancelSchedule(id),
  };
}

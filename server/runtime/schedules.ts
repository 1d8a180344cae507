/**
 * An actor's schedules (`c.schedule`): the entries it keeps, the one timer armed for the
 * earliest, and firing what is due. A schedule changes only through a task's commit (the
 * task buffers its puts and cancels; `apply` takes them in once it committed), and each
 * fires once: its entry is removed in the same commit as its action's effects, or right
 * after the action failed.
 */
import { ActionNotFound } from "../../shared/errors.ts";
import type { ScheduleEntry } from "../drivers/driver.ts";
import type { ServerLogger } from "../log.ts";
import { type ConnImpl, systemConn } from "./connection.ts";
import type { Task, TaskContext } from "./task.ts";

const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the schedules need of their actor. */
export interface SchedulesHost {
  readonly isRunning: boolean;
  readonly log: ServerLogger;
  readonly actions: Record<string, (c: unknown, ...args: unknown[]) => unknown>;
  /** Runs `fn` as a task of the actor (its commit removes the fired entry). */
  run(conn: ConnImpl, fn: (c: TaskContext) => unknown): Promise<unknown>;
}

export class ActorSchedules {
  private readonly entries = new Map<string, ScheduleEntry>();
  private timer: NodeJS.Timeout | null = null;
  private firing = false;

  constructor(private readonly host: SchedulesHost) {}

  /** The entries an actor was stored with. */
  load(entries: Iterable<ScheduleEntry>): void {
    for (const entry of entries) this.entries.set(entry.id, entry);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Every entry, for a snapshot. */
  list(): ScheduleEntry[] {
    return [...this.entries.values()];
  }

  /** When the earliest entry falls due (null: none), the actor's alarm. */
  earliest(): number | null {
    return earliest(this.list());
  }

  /** The entries once `task` commits. */
  *after(task: Task): Iterable<ScheduleEntry> {
    const removed = new Set(task.schedulesRemoved);
    for (const entry of this.entries.values()) if (!removed.has(entry.id)) yield entry;
    yield* task.schedulesPut;
  }

  /** `task` committed: its schedule changes take effect. */
  apply(task: Task): void {
    for (const id of task.schedulesRemoved) this.entries.delete(id);
    for (const entry of task.schedulesPut) this.entries.set(entry.id, entry);
    this.arm();
  }

  arm(): void {
    if (this.firing) return; // fireDue re-arms when it is done
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const next = this.earliest();
    if (next === null || !this.host.isRunning) return;
    const delay = Math.min(Math.max(next - Date.now(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.fireDue();
    }, delay);
    this.timer.unref();
  }

  /** The actor stops: no more firing. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
  }

  private async fireDue(): Promise<void> {
    if (this.firing) return;
    this.firing = true;
    try {
      const now = Date.now();
      const due = this.list()
        .filter((entry) => entry.at <= now)
        .sort((a, b) => a.at - b.at);
      for (const entry of due) {
        if (!this.host.isRunning) return;
        try {
          await this.host.run(systemConn("schedule"), (c) => {
            // Checked when the task runs: each schedule fires once.
            if (!this.entries.has(entry.id)) return undefined;
            c.schedule.cancel(entry.id); // removed in the same commit as the action's effects
            const actions = this.host.actions;
            if (!Object.hasOwn(actions, entry.action)) throw new ActionNotFound(`Scheduled action "${entry.action}" does not exist`);
            return actions[entry.action]!(c, ...entry.args);
          });
        } catch (error) {
          this.host.log.error({ err: error, action: entry.action, schedule: entry.id }, "scheduled action failed");
          // The schedule fired once: remove it even though its action failed.
          if (this.entries.has(entry.id) && this.host.isRunning) {
            await this.host.run(systemConn("schedule"), (c) => c.schedule.cancel(entry.id)).catch(() => undefined);
          }
        }
      }
    } finally {
      this.firing = false;
      this.arm();
    }
  }
}

export function earliest(entries: readonly ScheduleEntry[]): number | null {
  let min: number | null = null;
  for (const entry of entries) if (min === null || entry.at < min) min = entry.at;
  return min;
}

/**
 * Alarms of actors that are not loaded (asleep, or not yet woken after a restart): one
 * timer for the earliest; when it fires the actor is loaded and its own schedules take over.
 */
import type { Alarm } from "../drivers/driver.ts";

const MAX_TIMER_MS = 2 ** 31 - 1;

export class AlarmClock {
  private readonly alarms = new Map<string, Alarm>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly wake: (alarm: Alarm) => Promise<void>) {}

  set(alarm: Alarm): void {
    if (this.stopped) return;
    this.alarms.set(alarm.id, alarm);
    this.arm();
  }

  /** The alarms waiting (actors asleep with a schedule). */
  get waiting(): ReadonlyMap<string, Alarm> {
    return this.alarms;
  }

  delete(id: string): void {
    if (this.alarms.delete(id)) this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.alarms.clear();
  }

  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    let next: number | null = null;
    for (const alarm of this.alarms.values()) if (next === null || alarm.at < next) next = alarm.at;
    if (next === null || this.stopped) return;
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(next - Date.now(), 0), MAX_TIMER_MS));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    const now = Date.now();
    for (const alarm of [...this.alarms.values()]) {
      if (alarm.at > now) continue;
      this.alarms.delete(alarm.id);
      void this.wake(alarm);
    }
    this.arm();
  }
}

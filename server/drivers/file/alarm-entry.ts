/**
 * One actor's entry in the alarm index (alarm-index.ts: early is harmless, late loses a
 * wake-up), and what the actor's files know of it: read once, then kept in step with the
 * alarm each commit carries.
 */
import type { ActorMeta, ScheduleEntry } from "../driver.ts";
import { type AlarmIndex, type IndexedAlarm, movesEarlier } from "./alarm-index.ts";
import type { FileDriverLogger } from "./types.ts";

export class AlarmEntry {
  /** What the alarm index holds for this actor (undefined: not read yet). */
  private indexed: IndexedAlarm | undefined = undefined;

  constructor(
    private readonly alarms: AlarmIndex,
    private readonly id: string,
    private readonly hex: string,
    private readonly log: FileDriverLogger,
  ) {}

  /** What the index holds may have changed (the actor's files were closed). */
  forget(): void {
    this.indexed = undefined;
  }

  /** Reads the entry from the index (to `keep` once read along with the actor's files). */
  read(): Promise<IndexedAlarm> {
    return this.alarms.read(this.hex);
  }

  /** The entry as read by `read`. */
  keep(indexed: IndexedAlarm): void {
    this.indexed = indexed;
  }

  async current(): Promise<IndexedAlarm> {
    this.indexed ??= await this.alarms.read(this.hex);
    return this.indexed;
  }

  async set(next: number | null, durable: boolean, meta: ActorMeta): Promise<void> {
    this.indexed = undefined;
    if (next === null) await this.alarms.remove(this.hex);
    else await this.alarms.put(this.hex, { id: this.id, name: meta.name, key: [...meta.key], at: next }, durable);
    this.indexed = next;
  }

  /** Brings the index to `next`, durably when it moves earlier. */
  async sync(next: number | null, meta: ActorMeta): Promise<void> {
    const indexed = await this.current();
    if (next !== indexed) await this.set(next, movesEarlier(next, indexed), meta);
  }

  /** The same after acknowledging, when a failure can only leave the entry early: logged. */
  async syncLazily(next: number | null, meta: ActorMeta): Promise<void> {
    try {
      await this.sync(next, meta);
    } catch (error) {
      this.log.warn({ actorId: this.id, err: error }, "file driver: could not update the alarm index");
    }
  }
}

export function earliest(entries: readonly ScheduleEntry[]): number | null {
  let min: number | null = null;
  for (const entry of entries) if (min === null || entry.at < min) min = entry.at;
  return min;
}

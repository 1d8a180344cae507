/**
 * The alarm index: `alarms/<id>` holds the earliest schedule of every actor that has one,
 * with its name and key, so `alarms()` at startup reads only those files and never a log.
 *
 * The index may be early, never late. An alarm that moves earlier is written durably before
 * the commit that moves it is acknowledged (in parallel with the log's fsync); an alarm that
 * moves later or goes away is rewritten after the commit, without fsync. A crash can thus
 * leave an entry that is too early — the actor wakes, finds nothing due, and its load
 * repairs the entry — but never one that misses a schedule. An unreadable entry wakes its
 * actor at once, for the same reason.
 */
import { readdir, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Alarm } from "../driver.ts";
import { decodeAlarmEntry, encodeAlarmEntry } from "./codec.ts";
import { encodeFrame, readSingleFrame } from "./format.ts";
import { type SyncStats, isErrno, readFileOrNull, syncDir, writeFileDurable } from "./fs-util.ts";

/** What the index holds for one actor: a time, nothing, or a damaged entry (treated as "now"). */
export type IndexedAlarm = number | null | "unreadable";

/** Whether `next` must be in the index before the commit carrying it is acknowledged. */
export function movesEarlier(next: number | null, indexed: IndexedAlarm): boolean {
  if (next === null || indexed === "unreadable") return false;
  return indexed === null || next < indexed;
}

export class AlarmIndex {
  constructor(
    readonly dir: string,
    private readonly stats: SyncStats,
  ) {}

  private path(hex: string): string {
    return join(this.dir, hex);
  }

  async read(hex: string): Promise<IndexedAlarm> {
    const bytes = await readFileOrNull(this.path(hex));
    if (bytes === null) return null;
    try {
      const payload = readSingleFrame(bytes, "alarm");
      if (typeof payload === "string") return "unreadable";
      return decodeAlarmEntry(payload).at;
    } catch {
      return "unreadable";
    }
  }

  /** Sets an actor's entry; `durable` makes it survive a power loss before this resolves. */
  async put(hex: string, alarm: Alarm, durable: boolean): Promise<void> {
    const bytes = encodeFrame(encodeAlarmEntry(alarm), "alarm");
    const temp = `${this.path(hex)}.tmp`;
    if (durable) await writeFileDurable(temp, bytes, this.stats);
    else await writeFile(temp, bytes);
    await rename(temp, this.path(hex));
    if (durable) await syncDir(this.dir, this.stats);
  }

  async remove(hex: string): Promise<void> {
    try {
      await unlink(this.path(hex));
    } catch (error) {
      if (!isErrno(error, "ENOENT")) throw error;
    }
  }

  /** Every entry: its actor (hex of the id) and the alarm, or null when unreadable. */
  async list(): Promise<{ hex: string; alarm: Alarm | null }[]> {
    const out: { hex: string; alarm: Alarm | null }[] = [];
    for (const name of await readdir(this.dir)) {
      if (!/^(?:[0-9a-f]{2})+$/.test(name)) continue; // temp files and strangers
      const bytes = await readFileOrNull(this.path(name));
      if (bytes === null) continue;
      let alarm: Alarm | null = null;
      try {
        const payload = readSingleFrame(bytes, "alarm");
        if (typeof payload !== "string") alarm = decodeAlarmEntry(payload);
      } catch {
        alarm = null;
      }
      out.push({ hex: name, alarm });
    }
    return out;
  }
}

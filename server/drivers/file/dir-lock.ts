/**
 * One process per data directory: `<dir>/LOCK` names the process that has it open (pid and,
 * on Linux, its start time, so a recycled pid is not mistaken for the owner). Two processes
 * appending to the same logs would overwrite each other's frames; this turns that mistake
 * into a clear error at open. A lock left by a killed process is taken over.
 */
import { readFileSync } from "node:fs";
import { readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isErrno } from "./fs-util.ts";

interface Holder {
  readonly pid: number;
  readonly start: string | null;
}

/** The start time of a process (clock ticks since boot), where /proc tells it. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function alive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if (isErrno(error, "ESRCH")) return false;
  }
  return holder.start === null || startTime(holder.pid) === null || startTime(holder.pid) === holder.start;
}

function parse(text: string): Holder | null {
  try {
    const value = JSON.parse(text) as { pid?: unknown; start?: unknown };
    if (typeof value.pid !== "number") return null;
    return { pid: value.pid, start: typeof value.start === "string" ? value.start : null };
  } catch {
    return null;
  }
}

/** Takes the directory for this process; the returned function gives it back. */
export async function lockDir(root: string): Promise<() => Promise<void>> {
  const path = join(root, "LOCK");
  const me: Holder = { pid: process.pid, start: startTime(process.pid) };
  const mine = JSON.stringify(me);
  const release = async () => {
    const text = await readFile(path, "utf8").catch(() => null);
    if (text === mine) await unlink(path).catch(() => undefined);
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, mine, { flag: "wx" });
      return release;
    } catch (error) {
      if (!isErrno(error, "EEXIST") || attempt > 0) throw error;
    }
    const holder = parse(await readFile(path, "utf8").catch(() => ""));
    if (holder !== null && holder.pid !== process.pid && alive(holder)) {
      throw new Error(`The data directory ${root} is in use by process ${holder.pid}; if no server runs there, delete ${path}`);
    }
    await unlink(path).catch(() => undefined); // left by a process that is gone
  }
}

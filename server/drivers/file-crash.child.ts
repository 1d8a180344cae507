/**
 * Child process of file-crash.test.ts: a real server on the file driver, compacting every
 * <compactAfter> commits, writing through the inline client until it is killed with SIGKILL.
 *
 *   node --import tsx file-crash.child.ts <dir> <base> <streams> <compactAfter>
 *
 * Prints `state <key> <json items>` for each key once loaded (what survived the last kill),
 * then `go`, then `ack <key> <n>` after each call resolves, and `compactions <n>` (the
 * driver's counter) whenever it grew. Exits when stdin closes, so a dying parent leaves
 * nothing behind.
 */
import { createServer } from "../create-server.ts";
import { fileDriver } from "./file.ts";
import { KEYS, STREAM_SPAN, registry } from "./file-crash.registry.ts";

const [dir, baseArg, streamsArg, compactArg = "16"] = process.argv.slice(2);
if (dir === undefined || baseArg === undefined || streamsArg === undefined) throw new Error("usage: file-crash.child.ts <dir> <base> <streams> [compactAfter]");
const base = Number(baseArg);
const streams = Number(streamsArg);

process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

const driver = fileDriver({ dir, log: { warn: (obj, msg) => process.stderr.write(`warn ${msg} ${JSON.stringify(obj)}\n`) } });
const server = createServer(registry, { driver, logger: "error", compactAfterCommits: Number(compactArg) });
await server.ready;

for (const key of KEYS) {
  const items = await server.client.log.getOrCreate(key).items();
  process.stdout.write(`state ${key} ${JSON.stringify(items)}\n`);
}
process.stdout.write("go\n");

let reported = 0;

async function stream(s: number): Promise<void> {
  const key = KEYS[s % KEYS.length]!;
  const handle = server.client.log.getOrCreate(key);
  for (let i = 0; ; i++) {
    const n = base + s * STREAM_SPAN + i;
    await handle.add(n);
    process.stdout.write(`ack ${key} ${n}\n`); // synchronous on a pipe: printed means acknowledged
    if (driver.stats.compactions > reported) {
      reported = driver.stats.compactions;
      process.stdout.write(`compactions ${reported}\n`);
    }
  }
}

await Promise.all(Array.from({ length: streams }, (_, s) => stream(s)));

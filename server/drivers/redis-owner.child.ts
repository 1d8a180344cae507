/**
 * Child process of redis-fencing.test.ts and redis-crash.test.ts: the owner of one actor
 * ("fenced") on the Redis driver, renewing its lease on a timer and appending when told — a
 * node the tests can pause (SIGSTOP) or kill (SIGKILL).
 *
 *   node --import tsx redis-owner.child.ts <url> <keyPrefix> <leaseMs>
 *
 * Prints `ready <token>` once it created the actor; for each stdin line `append <label>`
 * prints `ok <label>` or `refused <label> <error code>`; for `stream <count>` appends the
 * items 0…count-1 with up to 20 appends in flight and prints `ack <i>` as each resolves;
 * prints `lost` when a renewal reports the lease lost. Exits when stdin closes.
 */
import { createInterface } from "node:readline";
import * as Y from "yjs";
import { redisDriver } from "./redis.ts";

/** The update of pushing `value` onto the doc's "items" array. */
function push(doc: Y.Doc, value: string): Uint8Array {
  const before = Y.encodeStateVector(doc);
  doc.getArray("items").push([value]);
  return Y.encodeStateAsUpdate(doc, before);
}

const [url, keyPrefix, leaseArg] = process.argv.slice(2);
if (url === undefined || keyPrefix === undefined || leaseArg === undefined) throw new Error("usage: redis-fencing.child.ts <url> <keyPrefix> <leaseMs>");
const leaseMs = Number(leaseArg);

const driver = redisDriver({ url, keyPrefix, nodeId: "paused-owner", leaseMs, log: { warn() {} } });
const lease = await driver.acquire("fenced");
const doc = new Y.Doc();
await driver.create({ id: "fenced", name: "room", key: ["fenced"], createdAt: 1_700_000_000_000 }, { update: push(doc, "created") }, lease);
let lost = false;
const renewal = setInterval(() => {
  driver.ownership.renew([lease]).then(
    (gone) => {
      if (gone.length > 0 && !lost) {
        lost = true;
        process.stdout.write("lost\n");
      }
    },
    () => undefined,
  );
}, leaseMs / 3);
process.stdout.write(`ready ${lease.token}\n`);

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const [command, label] = line.split(" ");
  if (command === "stream" && label !== undefined) return stream(Number(label));
  if (command !== "append" || label === undefined) return;
  // No check of the lease's age or of `lost` here: whatever this process believes, the write goes to Redis.
  driver.append("fenced", { update: push(doc, label) }, lease).then(
    () => process.stdout.write(`ok ${label}\n`),
    (error: { code?: string }) => process.stdout.write(`refused ${label} ${error.code ?? "unknown"}\n`),
  );
});
/** Appends 0…count-1 in order, 20 in flight at a time (the runtime's group commit). */
function stream(count: number): void {
  let next = 0;
  const lane = (): void => {
    if (next >= count) return;
    const i = next++;
    driver.append("fenced", { update: push(doc, String(i)) }, lease).then(
      () => {
        process.stdout.write(`ack ${i}\n`);
        lane();
      },
      (error: { code?: string }) => process.stdout.write(`refused ${i} ${error.code ?? "unknown"}\n`),
    );
  };
  for (let lanes = 0; lanes < 20; lanes++) lane();
}

lines.on("close", () => {
  clearInterval(renewal);
  void driver.close().finally(() => process.exit(0));
});

/**
 * Issue 12 (items 3 and 4): exactly-once records are bounded and belong to an identity.
 * - Bounded: a client that loops huge-result actions cannot grow an actor's storage without
 *   end (per record, per owner, per actor, idle owners pruned — deleted from storage too),
 *   while a resend within the window still gets its recorded result and runs once.
 * - Bound to identity: whoever learns a client id cannot read its recorded results nor push
 *   its seqs out of reach; a seq jump is refused (invalid_arguments) and records nothing,
 *   before and after a restart.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { actor, Forbidden, setup } from "tandem";
import { fileDriver, memoryDriver, type Driver } from "tandem/server";
import { actorId } from "../server/runtime/actor-id.ts";
import { Kind } from "../shared/protocol/index.ts";
import { type RawSocket, useNetwork } from "./support/raw-socket.ts";

const runs = { inc: 0 };

const vault = actor({
  state: { n: 0 },
  privateState: { secret: "the admin's secret" },
  onAuth: ({ params }) => ({ user: String(params.user ?? "anon"), role: params.role === "admin" ? "admin" : "viewer" }),
  actions: {
    inc: (c) => {
      runs.inc++;
      return ++c.state.n;
    },
    /** Read-only and huge: what a viewer can loop. */
    big: (_c, size: number, tag: string) => `${tag}:${"x".repeat(size)}`,
    secret: (c) => {
      if (c.conn.auth.role !== "admin") throw new Forbidden("admins only");
      return c.privateState.secret;
    },
  },
});
const registry = setup({ use: { vault } });

const net = useNetwork();
const dirs: string[] = [];
afterEach(async () => {
  runs.inc = 0;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-exactly-once-"));
  dirs.push(dir);
  return dir;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** A raw socket greeted as `clientId`, subscribed to vault "v" on channel 1 with these params. */
async function session(url: string, clientId: string, params: Record<string, string>): Promise<RawSocket> {
  const socket = await net.raw(url);
  await socket.hello(clientId);
  await socket.subscribe(1, "vault", ["v"], { params });
  return socket;
}

/** Sends actions back to back (pipelined), then waits for every ack. */
async function burst(socket: RawSocket, calls: { id: number; seq: number; name: string; args: unknown[] }[]) {
  for (const call of calls) socket.send({ kind: Kind.action, channel: 1, id: call.id, name: call.name, args: call.args, seq: call.seq });
  return Promise.all(calls.map((call) => socket.next(Kind.ack, (m) => m.channel === 1 && m.id === call.id, 20_000)));
}

/** The seq records a driver holds for vault "v" (the server must be closed: this takes the lease). */
async function storedSeqs(driver: Driver) {
  const id = actorId("vault", ["v"]);
  const lease = await driver.acquire(id);
  const stored = await driver.load(id, lease);
  await driver.release(lease);
  return stored!.seqs;
}

const viewer = { user: "val", role: "viewer" };
const admin = { user: "ada", role: "admin" };

describe("exactly-once records are bounded", () => {
  test("a viewer looping huge results on many client ids: the file driver's directory stays bounded; records are pruned in storage", async () => {
    const dir = await tempDir();
    const limits = { maxResultBytes: 10_000, maxBytesPerOwner: 40_000, maxBytesPerActor: 160_000, maxOwnersPerActor: 6 };
    const server = await net.server(registry, { driver: fileDriver({ dir }), compactAfterCommits: 50, limits });
    const owners = 20;
    const perOwner = 30;
    let id = 0;
    for (let o = 0; o < owners; o++) {
      const socket = await session(server.url, `viewer-${o}`, viewer);
      // Results of 8 KB (kept, up to the per-owner bytes) and one of 200 KB (kept as result_not_kept).
      const acks = await burst(
        socket,
        Array.from({ length: perOwner }, (_, i) => ({ id: ++id, seq: i + 1, name: "big", args: [i === 0 ? 200_000 : 8_000, `${o}.${i}`] })),
      );
      expect(acks.every((ack) => ack.ok)).toBe(true);
      expect((acks[0]!.ok && (acks[0]!.result as string).length) || 0).toBeGreaterThan(200_000); // the caller gets its value
      await socket.close();
    }
    await net.closeServer(server);
    const bytes = await dirBytes(dir);
    console.log(`exactly-once: ${owners} owners × ${perOwner} huge results → data directory ${bytes} bytes`);
    // Unbounded, this was every result: 20 × (200 KB + 29 × 8 KB) ≈ 8.6 MB.
    expect(bytes).toBeLessThan(1_500_000);
    const seqs = await storedSeqs(fileDriver({ dir }));
    const ownersStored = new Set([...seqs.keys()].map((key) => key.slice(0, key.lastIndexOf("\u0000"))));
    expect(ownersStored.size).toBeLessThanOrEqual(limits.maxOwnersPerActor);
    const storedBytes = [...seqs.values()].reduce((sum, record) => sum + JSON.stringify(record.result).length, 0);
    expect(storedBytes).toBeLessThanOrEqual(limits.maxBytesPerActor);
  });

  test("owners not seen for ownerIdleMs are pruned, in memory and in storage", async () => {
    const driver = memoryDriver();
    const server = await net.server(registry, { driver, compactAfterCommits: 10_000, limits: { ownerIdleMs: 200 } });
    const early = await session(server.url, "early", viewer);
    expect((await early.action(1, 1, "inc", [], 1)).ok).toBe(true);
    await early.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const late = await session(server.url, "late", viewer);
    expect((await late.action(1, 2, "inc", [], 1)).ok).toBe(true);
    await late.close();
    await net.closeServer(server);
    const keys = [...(await storedSeqs(driver)).keys()];
    expect(keys.some((key) => key.startsWith("early\u0000"))).toBe(false);
    expect(keys.some((key) => key.startsWith("late\u0000"))).toBe(true);
  });

  test("within the window a resend gets the same result and runs once; a result too large to keep answers result_not_kept, never runs again", async () => {
    const server = await net.server(registry, { driver: memoryDriver(), limits: { maxResultBytes: 1000 } });
    const socket = await session(server.url, "browser-1", viewer);
    const first = await socket.action(1, 1, "inc", [], 1);
    const second = await socket.action(1, 2, "inc", [], 2);
    const big = await socket.action(1, 3, "big", [5000, "b"], 3);
    expect(big.ok).toBe(true);
    await socket.close();
    const again = await session(server.url, "browser-1", viewer);
    expect(await again.action(1, 1, "inc", [], 1)).toMatchObject({ ok: true, result: first.ok && first.result });
    expect(await again.action(1, 2, "inc", [], 2)).toMatchObject({ ok: true, result: second.ok && second.result });
    const bigAgain = await again.action(1, 3, "big", [5000, "b"], 3);
    expect(bigAgain.ok === false && bigAgain.error.code).toBe("result_not_kept");
    expect(runs.inc).toBe(2);
    expect(await again.action(1, 4, "inc", [], 4)).toMatchObject({ ok: true, result: 3 });
  });
});

describe("exactly-once records belong to an identity", () => {
  test("another identity with a known client id cannot read its recorded results", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const owner = await session(server.url, "admins-browser", admin);
    expect(await owner.action(1, 1, "secret", [], 7)).toMatchObject({ ok: true, result: "the admin's secret" });
    const thief = await session(server.url, "admins-browser", viewer);
    const stolen = await thief.action(1, 1, "secret", [], 7);
    expect(stolen.ok === false && stolen.error.code).toBe("forbidden"); // it ran as the viewer: refused
    // and the owner's record is intact
    expect(await owner.action(1, 2, "secret", [], 7)).toMatchObject({ ok: true, result: "the admin's secret" });
  });

  test("a seq jump is refused and records nothing; later actions work, also after a restart; nobody else can burn an owner's seqs", async () => {
    const driver = memoryDriver();
    let server = await net.server(registry, { driver });
    const owner = await session(server.url, "browser-2", admin);
    expect(await owner.action(1, 1, "inc", [], 1)).toMatchObject({ ok: true, result: 1 });
    const burn = await owner.action(1, 2, "inc", [], 2 ** 40);
    expect(burn.ok === false && burn.error.code).toBe("invalid_arguments");
    const other = await session(server.url, "browser-2", viewer);
    const otherBurn = await other.action(1, 3, "inc", [], 2 ** 40);
    expect(otherBurn.ok === false && otherBurn.error.code).toBe("invalid_arguments");
    expect(runs.inc).toBe(1);
    expect(await owner.action(1, 4, "inc", [], 2)).toMatchObject({ ok: true, result: 2 });
    // a large but plausible gap (seqs count across actors) is accepted
    expect(await owner.action(1, 5, "inc", [], 1_000_000)).toMatchObject({ ok: true, result: 3 });
    await net.closeServer(server);

    server = await net.server(registry, { driver });
    const back = await session(server.url, "browser-2", admin);
    expect((await back.action(1, 1, "inc", [], 2 ** 40)).ok).toBe(false);
    expect(await back.action(1, 2, "inc", [], 1_000_000)).toMatchObject({ ok: true, result: 3 }); // the resend: recorded
    expect(await back.action(1, 3, "inc", [], 1_000_001)).toMatchObject({ ok: true, result: 4 });
    expect(runs.inc).toBe(4);
  });
});

/**
 * kill -9 of a real `tandem serve` (DESIGN §6: the file driver "survives kill -9 with no
 * acknowledged write lost"). The server is the CLI in a child process, on one --dir for the
 * whole test; this process drives it over the network, through a TCP proxy whose target
 * follows the child's new port after each restart (`--port 0`, port read from its stdout):
 *
 * - WebSocket streams: `createClient(url).log.getOrCreate(key).connect()`, several actions
 *   in flight each; a call unacknowledged at the kill stays in the client's outbox and is
 *   resent to the next server (exactly-once: it must be applied once, never twice);
 * - HTTP streams: `handle.add(n)`, one at a time; a call that fails at the kill is never
 *   retried (it may or may not be in the state, at most once).
 *
 * The child is SIGKILLed at seeded random moments (right after start while actors are
 * loading, after a random number of acknowledgements, or after a random delay), at least 20
 * times. After each restart a fresh client checks, for every key: nothing twice, nothing that
 * was never sent, every acknowledged number present, each stream's numbers in the order
 * sent (a WebSocket stream's: an unbroken prefix). At the end every WebSocket call must have
 * been acknowledged; SIGTERM must stop the server cleanly, and what it left must load in a
 * new in-process server. Re-run a failure with SEED=<seed>; SERVE_CRASH_CYCLES=<n> for more
 * cycles, SERVE_CRASH_VERBOSE=1 for per-cycle timings.
 *
 * Cost: each cycle starts a fresh `node bin/tandem.mjs` (about 1 s of CPU on these machines:
 * tsx, fastify, the library), which dominates the run time (~30-40 s on 2 idle cores).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { createClient, type Client } from "tandem/client";
import { createServer, fileDriver } from "tandem/server";
import { sleep, within } from "./seed-helpers.ts";
import { random } from "./support/random.ts";
import { ServeChild } from "./support/serve-child.ts";
import { registry } from "./support/serve-registry.ts";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";

type R = typeof registry;

const REGISTRY = fileURLToPath(new URL("./support/serve-registry.ts", import.meta.url));
const CYCLES = Number(process.env.SERVE_CRASH_CYCLES ?? 20);
const KEYS = ["a", "b"] as const;
/** Stream s sends s * SPAN + i, i = 0, 1, 2, … */
const SPAN = 1_000_000;
const BACKOFF = { baseMs: 20, maxMs: 150 } as const;

interface StreamSpec {
  readonly kind: "ws" | "http";
  readonly key: (typeof KEYS)[number];
  /** Calls in flight at once. */
  readonly window: number;
}

const SPECS: readonly StreamSpec[] = [
  { kind: "ws", key: "a", window: 4 },
  { kind: "ws", key: "b", window: 4 },
  { kind: "ws", key: "a", window: 1 },
  { kind: "http", key: "a", window: 1 },
  { kind: "http", key: "b", window: 1 },
];

class Stream {
  /** How many numbers were handed to the client (sent: base .. base + sent - 1). */
  sent = 0;
  readonly acked = new Set<number>();
  /** HTTP calls that failed: unknown outcome, never retried. */
  readonly failed = new Set<number>();
  /** Unexpected rejections of WebSocket calls, and wrong results. */
  readonly errors: string[] = [];
  readonly base: number;

  constructor(
    readonly index: number,
    readonly spec: StreamSpec,
  ) {
    this.base = index * SPAN;
  }

  owns(n: number): boolean {
    return n >= this.base && n < this.base + this.sent;
  }
}

test(
  "tandem serve killed with SIGKILL at random moments: no acknowledged action lost, none applied twice",
  async () => {
    const began = Date.now();
    const seed = process.env.SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.SEED);
    console.log(`serve crash test: seed ${seed} (re-run with SEED=${seed})`);
    const rand = random(seed);
    const dir = await mkdtemp(join(tmpdir(), "tandem-serve-crash-"));
    const streams = SPECS.map((spec, i) => new Stream(i, spec));
    const clients: Client<R>[] = [];
    let proxy: TcpProxy | null = null;
    let child: ServeChild | null = null;
    let stopping = false;
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const totalAcked = () => streams.reduce((sum, s) => sum + s.acked.size, 0);
    const stats = { kills: 0, earlyKills: 0, checks: 0, tornTails: 0 };

    /** One stream of WebSocket actions with `window` calls in flight; resolves once all are answered. */
    async function wsStream(stream: Stream, url: string): Promise<void> {
      const client = createClient<R>(url, { backoff: BACKOFF });
      clients.push(client);
      const conn = client.log.getOrCreate(stream.spec.key).connect();
      const inflight = new Set<Promise<void>>();
      while (!stopping) {
        while (inflight.size < stream.spec.window && !stopping) {
          const n = stream.base + stream.sent++;
          const call: Promise<void> = conn
            .add(n)
            .then(
              (result) => {
                if (result !== n) stream.errors.push(`add(${n}) answered ${JSON.stringify(result)}`);
                stream.acked.add(n);
              },
              (error: unknown) => void stream.errors.push(`add(${n}) over the WebSocket rejected: ${String(error)}`),
            )
            .finally(() => inflight.delete(call));
          inflight.add(call);
        }
        await Promise.race([...inflight, stopped]);
      }
      await within(Promise.all(inflight), 20_000, `the last WebSocket calls of stream ${stream.index}`);
      conn.dispose();
    }

    /** One stream of HTTP calls, one at a time; a failed call is not retried (its n is skipped). */
    async function httpStream(stream: Stream, url: string): Promise<void> {
      const client = createClient<R>(url, { backoff: BACKOFF });
      clients.push(client);
      const handle = client.log.getOrCreate(stream.spec.key);
      while (!stopping) {
        const n = stream.base + stream.sent++;
        try {
          const result = await within(handle.add(n), 20_000, `HTTP add(${n})`);
          if (result !== n) stream.errors.push(`add(${n}) answered ${JSON.stringify(result)}`);
          stream.acked.add(n);
        } catch {
          stream.failed.add(n);
          await sleep(25); // the server is down: do not spin
        }
      }
    }

    /** Checks one key's items against what was acknowledged before the read began. */
    function verify(key: string, items: readonly number[], acked: ReadonlyMap<Stream, ReadonlySet<number>>, context: string): void {
      const seen = new Set<number>();
      const order = new Map<Stream, number[]>();
      for (const n of items) {
        if (seen.has(n)) throw new Error(`${context}: ${key} holds ${n} twice`);
        seen.add(n);
        const stream = streams.find((s) => s.owns(n));
        if (stream === undefined || stream.spec.key !== key) throw new Error(`${context}: ${key} holds ${n}, which was never sent to it`);
        order.set(stream, [...(order.get(stream) ?? []), n - stream.base]);
      }
      for (const [stream, numbers] of acked) {
        if (stream.spec.key !== key) continue;
        for (const n of numbers) if (!seen.has(n)) throw new Error(`${context}: ${key} lost ${n}, acknowledged to stream ${stream.index} (${stream.spec.kind})`);
      }
      for (const [stream, offsets] of order) {
        offsets.forEach((offset, i) => {
          if (i > 0 && offset <= offsets[i - 1]!) throw new Error(`${context}: stream ${stream.index} (${stream.spec.kind}) out of order in ${key}: ${offsets[i - 1]} then ${offset}`);
          // A WebSocket stream's calls are applied in the order sent, and none is skipped.
          if (stream.spec.kind === "ws" && offset !== i) throw new Error(`${context}: WebSocket stream ${stream.index} has a gap in ${key}: ${offset} at position ${i}`);
        });
      }
    }

    function assertNoStreamErrors(context: string): void {
      const errors = streams.flatMap((s) => s.errors);
      if (errors.length > 0) throw new Error(`${context}: ${errors.length} unexpected call results, first: ${errors.slice(0, 5).join("; ")}`);
    }

    /** Reads every key through a fresh client's WebSocket replica and verifies it. */
    async function check(url: string, context: string): Promise<Map<string, number[]>> {
      assertNoStreamErrors(context);
      const acked = new Map(streams.map((s) => [s, new Set(s.acked)] as const)); // before the read starts
      const fresh = createClient<R>(url, { backoff: BACKOFF });
      const out = new Map<string, number[]>();
      try {
        for (const key of KEYS) {
          const conn = fresh.log.getOrCreate(key).connect();
          await within(conn.whenSynced(), 15_000, `${context}: a fresh replica of ${key} to sync`);
          const items = [...conn.state!.items];
          conn.dispose();
          verify(key, items, acked, context);
          out.set(key, items);
        }
      } finally {
        fresh.dispose();
      }
      stats.checks++;
      assertNoStreamErrors(context);
      return out;
    }

    async function startChild(context: string): Promise<ServeChild> {
      const started = ServeChild.start(REGISTRY, dir);
      child = started;
      await started.ready().catch((error: unknown) => {
        throw new Error(`${context}: ${String(error)}`);
      });
      proxy!.targetPort = started.port;
      return started;
    }

    let runs: Promise<void>[] = [];
    try {
      proxy = await tcpProxy(1); // nothing listens there until the first child is up
      const url = proxy.url;
      runs = streams.map((stream) => (stream.spec.kind === "ws" ? wsStream(stream, url) : httpStream(stream, url)));
      // Errors of the stream loops themselves surface when they are awaited at the end.
      for (const run of runs) run.catch(() => undefined);

      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const context = `seed ${seed}, cycle ${cycle}`;
        const t0 = Date.now();
        const running = await startChild(context);
        const t1 = Date.now();
        const early = rand.bool(0.2);
        if (early) {
          // Killed while the reconnecting clients make the actors load (recover) again.
          await sleep(rand.int(40));
          stats.earlyKills++;
        } else {
          await check(url, context);
          if (rand.bool(0.65)) {
            const target = totalAcked() + rand.int(100);
            const deadline = Date.now() + 5_000;
            while (totalAcked() < target && Date.now() < deadline && running.exit === null) await sleep(2);
          } else {
            await sleep(rand.int(250));
          }
        }
        const t2 = Date.now();
        const exit = await running.kill();
        if (process.env.SERVE_CRASH_VERBOSE) console.log(`cycle ${cycle}: start ${t1 - t0} ms, run ${t2 - t1} ms, kill ${Date.now() - t2} ms, acked ${totalAcked()}`);
        if (exit.signal !== "SIGKILL") throw new Error(`${context}: the server ended by itself (${JSON.stringify(exit)}): ${running.stderr.slice(-2000)}`);
        stats.kills++;
        stats.tornTails += running.stderr.split("dropped the torn tail").length - 1;
      }

      // The last server: let the streams catch up, stop them, and check everything.
      const last = await startChild(`seed ${seed}, final run`);
      await check(url, `seed ${seed}, after the last restart`);
      const target = totalAcked() + 50;
      for (let i = 0; i < 2500 && totalAcked() < target; i++) await sleep(2);
      stopping = true;
      stop();
      await within(Promise.all(runs), 25_000, "the streams to finish");
      assertNoStreamErrors(`seed ${seed}, end`);
      const final = await check(url, `seed ${seed}, final check`);
      for (const stream of streams) {
        const items = final.get(stream.spec.key)!.filter((n) => stream.owns(n));
        if (stream.spec.kind === "ws") {
          // Every WebSocket call was eventually acknowledged, and is there exactly once.
          expect(stream.acked.size, `stream ${stream.index}: acknowledged`).toBe(stream.sent);
          expect(items, `stream ${stream.index}: everything it sent, in order`).toEqual(Array.from({ length: stream.sent }, (_, i) => stream.base + i));
        } else {
          expect(stream.acked.size + stream.failed.size).toBe(stream.sent);
          for (const n of items) expect(stream.acked.has(n) || stream.failed.has(n)).toBe(true);
        }
      }
      // Stateless reads agree with the replicas.
      const reader = createClient<R>(url);
      clients.push(reader);
      for (const key of KEYS) expect(await reader.log.get(key).items()).toEqual(final.get(key));

      // SIGTERM stops the CLI gracefully; what it leaves loads in a new server.
      const exit = await last.terminate();
      stats.tornTails += last.stderr.split("dropped the torn tail").length - 1;
      expect(exit, `tandem serve on SIGTERM; stderr: ${last.stderr.slice(-2000)}`).toEqual({ code: 0, signal: null });
      const server = createServer(registry, { driver: fileDriver({ dir, log: { warn() {} } }), logger: false });
      try {
        for (const key of KEYS) expect(await server.client.log.get(key).items()).toEqual(final.get(key));
      } finally {
        await server.close();
      }

      const acked = totalAcked();
      const failed = streams.reduce((sum, s) => sum + s.failed.size, 0);
      console.log(
        `serve crash test: ${stats.kills} kills (${stats.earlyKills} right after start), ${stats.checks} checks, ` +
          `${acked} acknowledged actions (${streams.filter((s) => s.spec.kind === "ws").reduce((sum, s) => sum + s.acked.size, 0)} over WebSockets), ` +
          `${failed} HTTP calls failed at a kill, ${stats.tornTails} torn log tails dropped at recovery; none lost, none doubled (${((Date.now() - began) / 1000).toFixed(1)} s)`,
      );
      expect(stats.kills).toBe(CYCLES);
      expect(stats.kills).toBeGreaterThanOrEqual(20);
      for (const stream of streams) expect(stream.acked.size, `stream ${stream.index} made progress`).toBeGreaterThan(0);
    } finally {
      stopping = true;
      stop();
      for (const client of clients) client.dispose();
      await (child as ServeChild | null)?.kill();
      await proxy?.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
  180_000,
);

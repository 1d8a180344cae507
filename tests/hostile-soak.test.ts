/**
 * A bounded, seeded soak: hostile clients beside well-behaved ones against a real
 * `tandem serve` child process (file driver, temp dir).
 *
 * Hostile (each a loop until the soak's end; `SOAK_HOSTILE=presence,results,slow,edits`
 * picks some):
 * - presence: awareness states nested 1,000..10,000 deep, a few a second;
 * - results: a viewer calls `big(~1 MB)` with seqs (each result is an exactly-once record),
 *   32 calls per client id, then a new client id;
 * - slow: 24 sockets that subscribe to a ~900 KB document on 40 channels each and never
 *   read (each replaced after 12 s);
 * - edits: garbage bytes, Skip structs, the same client twice, maps and arrays nested
 *   100..10,000 deep, subdocuments, as direct edits, a few a second.
 * Well-behaved: 4 library clients (memory storage, each behind its own TCP proxy that cuts
 * the link at random moments) calling `bump(1)` on the same actor, up to 3 calls in flight.
 *
 * Asserted at the end (every violation listed together): the server process stayed up; its
 * peak RSS (VmRSS) stayed under 600 MB; its data dir stayed under 128 MB; every well-behaved
 * call resolved once, with results exactly 1..N and the final count N (nothing lost, nothing
 * applied twice); the well-behaved actor was never restarted.
 *
 * Why these bounds: the server idles at ~100–150 MB RSS here (~150 MB with presence and edit
 * attacks only); the big document is ~1 MB and the well-behaved writes a few KB, so anything
 * near 600 MB is memory held for hostile sockets. 24 slow sockets × the 32 MB per-socket cap
 * is ~770 MB, so a hard close past the per-socket cap alone does not keep under it (measured:
 * ~1.2 GB); a server-wide budget for queued bytes of up to ~250 MB does (a 128 MB budget
 * measured ~400 MB peak). On disk, the documents take ~2–4 MB; 128 MB leaves room for any
 * bounded store of results (issue 12 item 3) but not for results kept per client id without
 * a bound (the viewer alone records ~1 MB per call: ~260 MB in this soak on the code before).
 *
 * Prints the seed and the figures. `SEED=<n>` re-runs a seed, `SOAK_MS=<n>` sets the length
 * (default 25 s).
 */
import { afterEach, expect, test } from "vitest";
import { createClient, memoryStorage, type Client } from "tandem/client";
import { Kind } from "../shared/protocol/index.ts";
import { encodeAwarenessUpdate } from "./support/awareness-wire.ts";
import { editCase } from "./support/bad-edits.ts";
import { deepJson } from "./support/fuzz-shapes.ts";
import type { registry } from "./support/hostile-registry.ts";
import { random, type Random } from "./support/random.ts";
import { RawSocket } from "./support/raw-socket.ts";
import { ServedTarget } from "./support/served-target.ts";
import { SlowReader } from "./support/slow-reader.ts";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";

type R = typeof registry;

const SEED = Number(process.env.SEED ?? 1);
const SOAK_MS = Number(process.env.SOAK_MS ?? 25_000);
const HOSTILE = new Set((process.env.SOAK_HOSTILE ?? "presence,results,slow,edits").split(",").map((s) => s.trim()));

const RSS_BOUND = 600 * 1024 * 1024;
const DATA_BOUND = 128 * 1024 * 1024;
/** Past these the hostile loops stop adding pressure (the bound is already broken; spare the machine). */
const RSS_BRAKE = 1024 * 1024 * 1024;
const DATA_BRAKE = DATA_BOUND + 32 * 1024 * 1024;

const COUNTER = "soak-count";
const BIG_DOC = "soak-big";
const BIG_DOC_BYTES = 900 * 1024;
const RESULT_BYTES = 1_000_000;
const WELL_BEHAVED = 4;
const IN_FLIGHT = 3;
const SLOW_SOCKETS = 24;
const SLOW_CHANNELS = 40;
const SLOW_LIFETIME_MS = 12_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Everything the test started, stopped in afterEach whatever happened. */
const started = {
  target: null as ServedTarget | null,
  clients: [] as Client<R>[],
  proxies: [] as TcpProxy[],
  raws: [] as RawSocket[],
  slow: [] as SlowReader[],
};
afterEach(async () => {
  for (const client of started.clients.splice(0)) client.dispose();
  for (const reader of started.slow.splice(0)) reader.destroy();
  await Promise.all(started.raws.splice(0).map((socket) => socket.close()));
  await Promise.all(started.proxies.splice(0).map((proxy) => proxy.close()));
  await started.target?.stop();
  started.target = null;
});

async function call(url: string, action: string, body: Record<string, unknown>): Promise<unknown> {
  const response = await fetch(`${url}/actors/target/actions/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const json = (await response.json()) as { result?: unknown; error?: { code: string; message: string } };
  if (response.status !== 200) throw new Error(`${action}: ${response.status} ${json.error?.code} ${json.error?.message}`);
  return json.result;
}

interface Figures {
  peakRss: number;
  lastRss: number;
  peakData: number;
  calls: number;
  acked: number;
  rejected: string[];
  presenceSent: number;
  resultsAcked: number;
  resultClientIds: number;
  slowOpened: number;
  editsSent: number;
  editsAccepted: number;
  cuts: number;
}

test(
  `hostile soak (SEED=${SEED})`,
  async () => {
    console.log(`hostile soak: SEED=${SEED}, ${SOAK_MS} ms, hostile: ${[...HOSTILE].join(",")}`);
    const rng = random(SEED);
    const target = await ServedTarget.start("hostile-soak");
    started.target = target;
    const url = target.url;
    // The actors: the counter the well-behaved clients bump, and a ~900 KB document.
    await call(url, "count", { key: COUNTER, mode: "getOrCreate" });
    await call(url, "grow", { key: BIG_DOC, mode: "getOrCreate", args: [BIG_DOC_BYTES] });

    const figures: Figures = { peakRss: 0, lastRss: 0, peakData: 0, calls: 0, acked: 0, rejected: [], presenceSent: 0, resultsAcked: 0, resultClientIds: 0, slowOpened: 0, editsSent: 0, editsAccepted: 0, cuts: 0 };
    const results: number[] = [];
    const deadline = Date.now() + SOAK_MS;
    const running = () => Date.now() < deadline && target.alive;
    const braking = () => figures.lastRss > RSS_BRAKE || figures.peakData > DATA_BRAKE;

    // Monitor: RSS every 100 ms, data dir every 300 ms.
    const monitor = (async () => {
      let tick = 0;
      while (running()) {
        const rss = target.rssBytes();
        if (rss !== null) {
          figures.lastRss = rss;
          figures.peakRss = Math.max(figures.peakRss, rss);
        }
        if (tick++ % 3 === 0) figures.peakData = Math.max(figures.peakData, await target.dataBytes());
        await sleep(100);
      }
    })();

    // Well-behaved: bump(1) through the real client, across random link cuts.
    const pending = new Set<Promise<void>>();
    const wellBehaved = Array.from({ length: WELL_BEHAVED }, async (_, index) => {
      const proxy = await tcpProxy(target.child.port);
      started.proxies.push(proxy);
      const client = createClient<R>(proxy.url, { storage: memoryStorage(), backoff: { baseMs: 20, maxMs: 300 } });
      started.clients.push(client);
      const conn = client.target.getOrCreate(COUNTER).connect();
      const local = random(SEED * 100 + index);
      let nextCut = Date.now() + 500 + local.int(2500);
      const inFlight = new Set<Promise<void>>();
      while (running()) {
        if (Date.now() > nextCut) {
          figures.cuts++;
          proxy.cut();
          await sleep(100 + local.int(700));
          proxy.restore();
          nextCut = Date.now() + 500 + local.int(2500);
        }
        while (inFlight.size < IN_FLIGHT) {
          figures.calls++;
          const settled: Promise<void> = conn.bump(1).then(
            (value) => {
              figures.acked++;
              results.push(value);
            },
            (error: Error & { code?: string }) => {
              figures.rejected.push(`${error.code ?? ""} ${error.message}`);
            },
          );
          const tracked = settled.finally(() => {
            inFlight.delete(tracked);
            pending.delete(tracked);
          });
          inFlight.add(tracked);
          pending.add(tracked);
        }
        await Promise.race([...inFlight, sleep(50)]);
        await sleep(10 + local.int(40));
      }
      proxy.restore();
    });

    const hostiles: Promise<void>[] = [];
    if (HOSTILE.has("presence")) hostiles.push(deepPresence(url, rng, running, figures));
    if (HOSTILE.has("results")) hostiles.push(hugeResults(url, running, braking, figures));
    if (HOSTILE.has("slow")) hostiles.push(slowReaders(url, running, braking, figures));
    if (HOSTILE.has("edits")) hostiles.push(garbageEdits(url, rng, running, figures));

    await Promise.all([...wellBehaved, ...hostiles.map((h) => h.catch((error: Error) => console.log(`a hostile loop ended: ${error.message}`)))]);
    await monitor;
    for (const reader of started.slow.splice(0)) reader.destroy();

    // Every well-behaved call settles (bounded), then the counter is read.
    const settleBy = Date.now() + 60_000;
    while (pending.size > 0 && Date.now() < settleBy && target.alive) await Promise.race([...pending, sleep(200)]);
    const unsettled = pending.size;
    const finalRss = target.rssBytes() ?? 0;
    const finalData = await target.dataBytes();
    let count: unknown = null;
    let starts: unknown = null;
    if (target.alive) {
      count = await call(url, "count", { key: COUNTER }).catch((error: Error) => `failed: ${error.message}`);
      starts = await call(url, "starts", { key: COUNTER }).catch((error: Error) => `failed: ${error.message}`);
    }
    console.log(
      `hostile soak figures (SEED=${SEED}): peak RSS ${MB(figures.peakRss)} (final ${MB(finalRss)}); data dir peak ${MB(figures.peakData)} (final ${MB(finalData)}); ` +
        `well-behaved: ${figures.calls} calls, ${figures.acked} acked, ${figures.rejected.length} rejected, ${unsettled} unsettled, ${figures.cuts} link cuts, final count ${String(count)}, actor loads ${String(starts)}; ` +
        `hostile: ${figures.presenceSent} deep presence states, ${figures.resultsAcked} ~1 MB results acked over ${figures.resultClientIds} client ids, ` +
        `${figures.slowOpened} slow readers, ${figures.editsSent} bad edits (${figures.editsAccepted} accepted)`,
    );

    const violations: string[] = [];
    if (!target.alive) violations.push(target.death()!);
    if (figures.peakRss >= RSS_BOUND) violations.push(`peak RSS ${MB(figures.peakRss)} ≥ ${MB(RSS_BOUND)}`);
    if (Math.max(figures.peakData, finalData) >= DATA_BOUND) violations.push(`data dir reached ${MB(Math.max(figures.peakData, finalData))} ≥ ${MB(DATA_BOUND)}`);
    if (unsettled > 0) violations.push(`${unsettled} well-behaved calls never settled`);
    if (figures.rejected.length > 0) violations.push(`${figures.rejected.length} well-behaved calls rejected: ${[...new Set(figures.rejected)].slice(0, 5).join(" | ")}`);
    const sorted = [...results].sort((a, b) => a - b);
    const exact = sorted.every((value, i) => value === i + 1);
    if (!exact) violations.push(`results are not exactly 1..${results.length} (a call applied twice or one lost): first mismatch at ${sorted.findIndex((value, i) => value !== i + 1)}`);
    if (target.alive && count !== figures.calls) violations.push(`final count ${String(count)} ≠ ${figures.calls} calls`);
    if (target.alive && starts !== 1) violations.push(`the well-behaved actor was loaded ${String(starts)} times (restarted)`);
    expect(violations, `hostile soak (SEED=${SEED})`).toEqual([]);
  },
  SOAK_MS + 150_000,
);

/** Awareness states nested 1,000..10,000 deep on the counter actor, about three a second. */
async function deepPresence(url: string, rng: Random, running: () => boolean, figures: Figures): Promise<void> {
  let socket: RawSocket | null = null;
  let clientId = 5_000_000;
  let clock = 0;
  while (running()) {
    if (socket === null || socket.closeInfo !== null || socket.all(Kind.unsubscribed, 1).length > 0) {
      if (socket !== null) await socket.close();
      socket = await RawSocket.open(url);
      started.raws.push(socket);
      await socket.hello();
      await socket.subscribe(1, "target", COUNTER, { mode: "get" });
      clientId++;
      clock = 0;
    }
    const levels = Math.round(1000 * Math.pow(10, rng.next()));
    socket.send({ kind: Kind.awareness, channel: 1, update: encodeAwarenessUpdate([{ clientId, clock: ++clock, json: `{"d":${deepJson(levels, rng.bool() ? "object" : "array")}}` }]) });
    figures.presenceSent++;
    await sleep(300);
  }
}

/** A viewer calling `big(~1 MB)` with seqs, 32 per client id, 4 in flight (a new socket if its channel is ended). */
async function hugeResults(url: string, running: () => boolean, braking: () => boolean, figures: Figures): Promise<void> {
  while (running()) {
    if (braking()) {
      await sleep(200);
      continue;
    }
    const socket = await RawSocket.open(url);
    started.raws.push(socket);
    figures.resultClientIds++;
    await socket.hello(`viewer-${SEED}-${figures.resultClientIds}`);
    await socket.subscribe(1, "target", COUNTER, { mode: "get" });
    const usable = () => socket.closeInfo === null && socket.all(Kind.unsubscribed, 1).length === 0 && socket.all(Kind.error, 1).length === 0;
    for (let seq = 1; seq <= 32 && running() && !braking() && usable(); seq += 4) {
      const calls = [0, 1, 2, 3].map((i) => {
        socket.send({ kind: Kind.action, channel: 1, id: seq + i, name: "big", args: [RESULT_BYTES], seq: seq + i });
        return socket
          .nextMatch((m) => (m.kind === Kind.ack && m.id === seq + i) || ((m.kind === Kind.error || m.kind === Kind.unsubscribed) && m.channel === 1), 15_000)
          .then((m) => {
            if (m.kind === Kind.ack && m.ok) figures.resultsAcked++;
          });
      });
      await Promise.all(calls).catch(() => undefined);
      // Keep no copies of 1 MB results in the test process (only the frames that end the channel).
      const ending = socket.received.filter((m) => m.kind === Kind.error || m.kind === Kind.unsubscribed);
      socket.received.length = 0;
      socket.received.push(...ending);
    }
    await socket.close();
    started.raws.splice(started.raws.indexOf(socket), 1);
  }
}

/** 24 sockets subscribed 40 times each to the ~900 KB document, never reading; each replaced after 12 s. */
async function slowReaders(url: string, running: () => boolean, braking: () => boolean, figures: Figures): Promise<void> {
  const live: { reader: SlowReader; since: number }[] = [];
  while (running()) {
    for (const entry of [...live]) {
      if (Date.now() - entry.since < SLOW_LIFETIME_MS) continue;
      entry.reader.destroy();
      live.splice(live.indexOf(entry), 1);
      started.slow.splice(started.slow.indexOf(entry.reader), 1);
    }
    if (live.length < SLOW_SOCKETS && !braking()) {
      figures.slowOpened++;
      const reader = await SlowReader.open(url, "target", BIG_DOC, SLOW_CHANNELS, `slow-${SEED}-${figures.slowOpened}`);
      started.slow.push(reader);
      live.push({ reader, since: Date.now() });
    }
    await sleep(live.length < SLOW_SOCKETS ? 50 : 250);
  }
}

/** Refused kinds of direct edit (garbage, Skip, same client twice, nested past any limit, subdocument) on the counter actor. */
async function garbageEdits(url: string, rng: Random, running: () => boolean, figures: Figures): Promise<void> {
  const socket = await RawSocket.open(url);
  started.raws.push(socket);
  await socket.hello();
  let channel = 1;
  let { step2 } = await socket.subscribe(channel, "target", COUNTER, { mode: "get" });
  const kinds = [2, 4, 6, 7, 9];
  let id = 0;
  while (running()) {
    if (socket.closeInfo !== null) return;
    if (socket.all(Kind.unsubscribed, channel).length > 0) {
      channel++;
      ({ step2 } = await socket.subscribe(channel, "target", COUNTER, { mode: "get" }));
    }
    const c = editCase(rng, rng.pick(kinds), step2.data, ++id);
    socket.send({ kind: Kind.edit, channel, id, update: c.update });
    figures.editsSent++;
    const answer = await socket
      .nextMatch((m) => (m.kind === Kind.editResult && m.id === id) || ((m.kind === Kind.error || m.kind === Kind.unsubscribed) && m.channel === channel), 5000)
      .catch(() => null);
    if (answer?.kind === Kind.editResult && answer.ok) figures.editsAccepted++;
    await sleep(150 + rng.int(200));
  }
}

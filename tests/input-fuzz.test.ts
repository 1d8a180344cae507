/**
 * Seeded bad-input fuzz against a real `tandem serve` process (file driver, temp dir), one
 * class of input per describe, each with generated nesting depths (1..10,000) and sizes (up
 * to just under the frame limit):
 *
 * - awareness: presence updates from a subscribed member (deep and huge states, many ids,
 *   non-object states, not JSON, garbage, truncated, another member's id, `__proto__`);
 * - HTTP bodies: `POST /actors/target/actions/:action` (deep and huge args, over the limit,
 *   wrong types, not JSON, `__proto__`, odd content types, unknown names);
 * - edits: Yjs updates from a `canEdit` connection (text, deep maps and arrays, garbage,
 *   truncated, Skip structs, the same client twice, missing references, subdocuments,
 *   XML types, `__proto__`, outside the state root).
 *
 * After every case: the process is alive; the bad input got a clear answer (error frame,
 * refused edit, 4xx with an error code — never a 5xx, never silence); refused input changed
 * nothing (the actor's full state, read fresh, is byte for byte what it was); a
 * well-behaved client on the same actor gets its action acknowledged with the expected
 * count, was never disconnected, and its replica converges with the server's; the actor was
 * loaded once (no restart); an observer socket was not dropped; nothing was logged at error
 * level; the whole state still reads as plain data. A server that died is restarted for the
 * next test (each test reports its own class).
 *
 * Each test prints its seed; `SEED=<n>` re-runs one, `FUZZ_SEEDS=<n>` runs n seeds per class
 * (default 6), `FUZZ_CASES=<n>` sets the cases per seed (default 13: every kind of case once,
 * in a seeded order, then random kinds).
 */
import { afterAll, describe, expect, test } from "vitest";
import * as Y from "yjs";
import { createClient, type Client } from "tandem/client";
import { Kind, type DownMessage } from "../shared/protocol/index.ts";
import { decodeAwarenessUpdate, encodeAwarenessUpdate } from "./support/awareness-wire.ts";
import { AWARENESS_KINDS, awarenessCase, removal } from "./support/bad-awareness.ts";
import { EDIT_KINDS, editCase } from "./support/bad-edits.ts";
import { HTTP_KINDS, httpCase, type HttpCase } from "./support/bad-http.ts";
import { ACCEPT_DEPTH, schedule, type Verdict } from "./support/fuzz-shapes.ts";
import type { registry } from "./support/hostile-registry.ts";
import { random } from "./support/random.ts";
import { RawSocket } from "./support/raw-socket.ts";
import { ServedTarget } from "./support/served-target.ts";

type R = typeof registry;

const CASES = Number(process.env.FUZZ_CASES ?? 13);
const SEEDS_PER_CLASS = 6;
const TEST_TIMEOUT_MS = 90_000;

function fuzzSeeds(count: number): number[] {
  if (process.env.SEED) return [Number(process.env.SEED)];
  const n = Number(process.env.FUZZ_SEEDS ?? count);
  return Array.from({ length: n }, (_, i) => 1 + i);
}

// One server process for the file; a test that finds it dead starts a new one.
let served: ServedTarget | null = null;
async function server(): Promise<ServedTarget> {
  if (served?.alive) return served;
  if (served !== null) await served.stop();
  served = await ServedTarget.start("input-fuzz");
  return served;
}
afterAll(async () => {
  await served?.stop();
  served = null;
});

/** Waits (bounded) for a frame at or after index `from` that matches; null on timeout or close. */
async function frameAfter(socket: RawSocket, from: number, match: (m: DownMessage) => boolean, ms: number): Promise<DownMessage | null> {
  const until = Date.now() + ms;
  for (;;) {
    for (let i = from; i < socket.received.length; i++) if (match(socket.received[i]!)) return socket.received[i]!;
    if (Date.now() > until || socket.closeInfo !== null) return null;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** A hostile member of one actor on a raw socket; reopened or resubscribed if the server ends it. */
class Member {
  socket!: RawSocket;
  channel = 0;
  /** Times the server ended this member's channel or socket. */
  ended = 0;

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly opened: RawSocket[],
  ) {}

  async ensure(): Promise<void> {
    if (this.socket === undefined || this.socket.closeInfo !== null) {
      if (this.socket !== undefined) this.ended++;
      this.socket = await RawSocket.open(this.url);
      this.opened.push(this.socket);
      await this.socket.hello();
      this.channel = 0;
    } else if (this.socket.all(Kind.unsubscribed, this.channel).length === 0) {
      return;
    } else {
      this.ended++;
    }
    this.channel++;
    await this.socket.subscribe(this.channel, "target", this.key);
  }

  /** The refusal of what was sent after frame index `from`: an error frame, unsubscribed, or a close with a code. */
  async refusal(from: number, ms: number, also: (m: DownMessage) => boolean = () => false): Promise<string | null> {
    const answer = await frameAfter(
      this.socket,
      from,
      (m) => ((m.kind === Kind.error || m.kind === Kind.unsubscribed) && (m.channel === this.channel || m.channel === 0)) || also(m),
      ms,
    );
    if (answer !== null) {
      if (answer.kind === Kind.error || answer.kind === Kind.unsubscribed) return `${answer.kind === Kind.error ? "error" : "unsubscribed"} ${answer.error.code}`;
      if (answer.kind === Kind.editResult && !answer.ok) return `editResult ${answer.error.code}`;
      if (answer.kind === Kind.editResult) return null;
    }
    const close = this.socket.closeInfo;
    if (close !== null && (close.code === 1008 || close.code === 1009 || close.code >= 4000)) return `closed ${close.code} ${close.reason}`;
    return null;
  }
}

/**
 * A fresh actor (`key`) with a well-behaved library client and an observer socket on it,
 * and the checks every case ends with.
 */
async function scene(target: ServedTarget, key: string) {
  const sockets: RawSocket[] = [];
  const client: Client<R> = createClient<R>(target.url, { backoff: { baseMs: 20, maxMs: 200 } });
  const errorsBefore = target.errorLines().length;
  const conn = client.target.getOrCreate(key).connect();
  const dispose = async () => {
    client.dispose();
    await Promise.all(sockets.map((socket) => socket.close()));
  };
  try {
    await bounded(conn.whenSynced(), 10_000, "the good client's first sync");
    const statuses: string[] = [];
    conn.onStatus((status) => statuses.push(status));
    const observer = await RawSocket.open(target.url);
    sockets.push(observer);
    await observer.hello();
    await observer.subscribe(1, "target", key);
    let count = 0;

    /** The actor's whole state as the server encodes it now (sync step 1 from nothing). */
    const snapshot = async (): Promise<Uint8Array> => {
      const from = observer.received.length;
      observer.send({ kind: Kind.sync, channel: 1, step: "step1", data: Y.encodeStateVector(new Y.Doc()) });
      const answer = await frameAfter(observer, from, (m) => m.kind === Kind.sync && m.channel === 1 && m.step === "step2", 10_000);
      if (answer === null || answer.kind !== Kind.sync) throw new Error(`no state from the server within 10 s (observer received: ${observer.summary().slice(-300)}; ${observer.closeInfo ? `closed ${observer.closeInfo.code}` : "open"}; ${target.death() ?? "server alive"})`);
      return answer.data;
    };

    /** Nothing was dropped: the process is up, the observer still subscribed, the good client never disconnected. */
    const intact = (label: string): void => {
      expect(target.death(), `${label}: the server process is alive`).toBeNull();
      const dropped = observer.received.filter((m) => m.kind === Kind.unsubscribed).map((m) => (m.kind === Kind.unsubscribed ? m.error.code : ""));
      expect(dropped, `${label}: the observer's channel was ended (the actor restarted?)`).toEqual([]);
      expect(observer.closeInfo, `${label}: the observer socket is open`).toBeNull();
      expect(statuses, `${label}: the good client was never disconnected`).toEqual([]);
    };

    const healthy = async (label: string): Promise<void> => {
      intact(label);
      count++;
      const failed = (error: Error) => `rejected: ${error.message}`;
      const [result, starts, polluted, readable] = await Promise.all([
        bounded(conn.bump(1), 10_000, `${label}: the good client's bump`).catch(failed),
        bounded(conn.starts(), 10_000, `${label}: starts`).catch(failed),
        bounded(conn.polluted(), 10_000, `${label}: polluted`).catch(failed),
        bounded(conn.readAll(), 10_000, `${label}: readAll`).catch(failed),
      ]);
      expect(result, `${label}: the good client's action is acknowledged with the count`).toBe(count);
      expect(typeof readable, `${label}: the whole state still reads as plain data (${String(readable)})`).toBe("number");
      expect(starts, `${label}: the actor was loaded once (no restart)`).toBe(1);
      expect(polluted, `${label}: Object.prototype is clean`).toBe(false);
      intact(label);
      // The good replica converges with the server's state (a replica that cannot apply an update never does).
      const server = new Y.Doc();
      Y.applyUpdate(server, await snapshot());
      const want = Y.encodeStateVector(server);
      const until = Date.now() + 10_000;
      while (!sameBytes(Y.encodeStateVector(conn.doc), want) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(sameBytes(Y.encodeStateVector(conn.doc), want), `${label}: the good replica converges with the server`).toBe(true);
      const logged = target.errorLines().slice(errorsBefore);
      expect(logged, `${label}: nothing logged at error level`).toEqual([]);
    };

    return { conn, observer, sockets, snapshot, intact, healthy, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

const VERBOSE = process.env.FUZZ_VERBOSE === "1";
let caseStarted = 0;

/** The case's label for failure messages (and, with FUZZ_VERBOSE=1, a line per case with the time the last one took). */
function describeCase(seed: number, index: number, what: string, verdict: Verdict): string {
  const label = `SEED=${seed} case ${index} (${verdict}): ${what}`;
  if (VERBOSE) console.log(`${caseStarted === 0 ? "" : `${Date.now() - caseStarted} ms; `}next: ${label}`);
  caseStarted = Date.now();
  return label;
}

describe("bad awareness states", () => {
  for (const seed of fuzzSeeds(SEEDS_PER_CLASS)) {
    test(
      `seed ${seed}`,
      async () => {
        console.log(`input fuzz, awareness: SEED=${seed}`);
        const rng = random(seed);
        const kinds = schedule(rng, AWARENESS_KINDS, CASES);
        const target = await server();
        const s = await scene(target, `awareness-${seed}`);
        try {
          // The observer has its own presence state (an id the hostile member may not touch).
          const otherId = 7_000 + seed;
          s.observer.send({ kind: Kind.awareness, channel: 1, update: encodeAwarenessUpdate([{ clientId: otherId, clock: 1, json: '{"observer":true}' }]) });
          // What the observer was told: the marker `m` (or `probe`) of each state, by id.
          const seen = new Set<string>();
          let read = 0;
          const observe = () => {
            for (; read < s.observer.received.length; read++) {
              const m = s.observer.received[read]!;
              if (m.kind !== Kind.awareness) continue;
              for (const entry of decodeAwarenessUpdate(m.update) ?? []) {
                const found = /^\{"(m|probe)":(\d+)/.exec(entry.json);
                if (found !== null) seen.add(`${entry.clientId}:${found[1]}:${found[2]}`);
              }
            }
          };
          const hostile = new Member(target.url, `awareness-${seed}`, s.sockets);
          await hostile.ensure();
          let own = 900_000 + seed * 1000;
          let ended = 0;
          let clock = 0;
          const author = { own, other: otherId, nextClock: () => ++clock };
          for (let i = 0; i < CASES; i++) {
            const marker = seed * 1000 + i;
            const c = awarenessCase(rng, kinds[i]!, { ...author, own }, marker);
            const label = describeCase(seed, i, c.what, c.verdict);
            const from = hostile.socket.received.length;
            hostile.socket.send({ kind: Kind.awareness, channel: hostile.channel, update: c.update });
            if (c.verdict === "reject") {
              const refusal = await hostile.refusal(from, 5000);
              expect(refusal, `${label}: refused with an error (${target.death() ?? "server alive"})`).not.toBeNull();
            }
            if (c.verdict === "accept") {
              const relayed = await frameAfter(s.observer, 0, () => (observe(), seen.has(`${own}:m:${marker}`)), 5000);
              expect(relayed !== null || seen.has(`${own}:m:${marker}`), `${label}: relayed to the observer (${target.death() ?? "server alive"})`).toBe(true);
              expect(await hostile.refusal(from, 0), `${label}: no error for a well-formed state`).toBeNull();
            }
            // A probe: the member (re-subscribed if the server ended its channel) still gets its state through.
            await hostile.ensure().catch((error: Error) => expect.fail(`${label}: cannot reconnect the member: ${error.message} (${target.death() ?? "server alive"})`));
            if (hostile.ended !== ended) {
              ended = hostile.ended;
              own++; // a new member takes a new id
              clock = 0;
            }
            if (c.introduced.length > 0) hostile.socket.send({ kind: Kind.awareness, channel: hostile.channel, update: removal(c.introduced) });
            hostile.socket.send({ kind: Kind.awareness, channel: hostile.channel, update: encodeAwarenessUpdate([{ clientId: own, clock: ++clock, json: `{"probe":${marker}}` }]) });
            await frameAfter(s.observer, 0, () => (observe(), seen.has(`${own}:probe:${marker}`)), 5000);
            expect(seen.has(`${own}:probe:${marker}`), `${label}: a later well-formed state is relayed (${target.death() ?? "server alive"})`).toBe(true);
            if (c.verdict === "reject") expect(seen.has(`${own}:m:${marker}`), `${label}: the refused state was not relayed`).toBe(false);
            await s.healthy(label);
          }
        } finally {
          await s.dispose();
        }
      },
      TEST_TIMEOUT_MS,
    );
  }
});

/** The response: status and body (JSON when it parses). */
async function send(url: string, c: HttpCase): Promise<{ status: number; body: unknown; text: string }> {
  const headers: Record<string, string> = {};
  if (c.contentType !== null) headers["content-type"] = c.contentType;
  const response = await fetch(`${url}${c.path}`, { method: "POST", headers, body: typeof c.body === "string" ? c.body : new Uint8Array(c.body), signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

describe("bad HTTP action bodies", () => {
  for (const seed of fuzzSeeds(SEEDS_PER_CLASS)) {
    test(
      `seed ${seed}`,
      async () => {
        console.log(`input fuzz, HTTP: SEED=${seed}`);
        const rng = random(seed);
        const kinds = schedule(rng, HTTP_KINDS, CASES);
        const target = await server();
        const key = `http-${seed}`;
        const s = await scene(target, key);
        try {
          for (let i = 0; i < CASES; i++) {
            const marker = seed * 1000 + i;
            const c = httpCase(rng, kinds[i]!, key, marker);
            const label = describeCase(seed, i, c.what, c.verdict);
            const before = await s.snapshot();
            const response = await send(target.url, c).catch((error: Error) => ({ status: 0, body: undefined, text: `fetch failed: ${error.message} (${target.death() ?? "server alive"})` }));
            const summary = `${label}: answered ${response.status} ${response.text.slice(0, 300)}`;
            expect(response.status, `${summary} — never a 5xx (or no answer) for a client's mistake`).toBeGreaterThanOrEqual(200);
            expect(response.status, `${summary} — never a 5xx for a client's mistake`).toBeLessThan(500);
            const refused = response.status >= 400;
            if (refused) {
              const code = (response.body as { error?: { code?: unknown } } | undefined)?.error?.code;
              expect(typeof code, `${summary} — a refusal carries an error code`).toBe("string");
              if (c.status !== undefined) expect(response.status, summary).toBe(c.status);
              s.intact(summary);
              expect(sameBytes(await s.snapshot(), before), `${summary} — a refused call changed the actor's state`).toBe(true);
            }
            if (c.verdict === "reject") expect(refused, `${summary} — must be refused`).toBe(true);
            if (c.verdict === "accept") expect(response.status, `${summary} — must succeed`).toBe(200);
            if (!refused && c.echoes !== undefined && c.echoes.levels <= ACCEPT_DEPTH) {
              expect((response.body as { result?: unknown }).result, summary).toEqual(JSON.parse(c.echoes.json));
            }
            if (!refused && c.stores !== undefined && c.stores.levels <= ACCEPT_DEPTH) {
              const want: unknown = JSON.parse(c.stores.json);
              const stores = c.stores;
              const until = Date.now() + 10_000;
              const values = () => (s.conn.state as { values?: Record<string, unknown> } | undefined)?.values?.[stores.key];
              while (JSON.stringify(values()) !== JSON.stringify(want) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
              expect(values(), `${summary} — the stored value reaches the good replica`).toEqual(want);
            }
            await s.healthy(label);
          }
        } finally {
          await s.dispose();
        }
      },
      TEST_TIMEOUT_MS,
    );
  }
});

describe("bad direct edits", () => {
  for (const seed of fuzzSeeds(SEEDS_PER_CLASS)) {
    test(
      `seed ${seed}`,
      async () => {
        console.log(`input fuzz, edits: SEED=${seed}`);
        const rng = random(seed);
        const kinds = schedule(rng, EDIT_KINDS, CASES);
        const target = await server();
        const key = `edit-${seed}`;
        const s = await scene(target, key);
        try {
          const editor = new Member(target.url, key, s.sockets);
          await editor.ensure();
          for (let i = 0; i < CASES; i++) {
            const marker = seed * 1000 + i;
            const before = await s.snapshot();
            const c = editCase(rng, kinds[i]!, before, marker);
            const label = describeCase(seed, i, c.what, c.verdict);
            await editor.ensure();
            const from = editor.socket.received.length;
            const id = 10_000 + i;
            editor.socket.send({ kind: Kind.edit, channel: editor.channel, id, update: c.update });
            const answer = await frameAfter(
              editor.socket,
              from,
              (m) => (m.kind === Kind.editResult && m.channel === editor.channel && m.id === id) || ((m.kind === Kind.error || m.kind === Kind.unsubscribed) && (m.channel === editor.channel || m.channel === 0)),
              10_000,
            );
            const close = editor.socket.closeInfo;
            const outcome =
              answer === null
                ? close !== null
                  ? `socket closed ${close.code} ${close.reason}`
                  : "no answer"
                : answer.kind === Kind.editResult
                  ? answer.ok
                    ? "accepted"
                    : `refused ${answer.error.code}`
                  : `${answer.kind === Kind.error ? "error" : "unsubscribed"} ${answer.kind === Kind.error || answer.kind === Kind.unsubscribed ? answer.error.code : ""}`;
            const summary = `${label}: ${outcome} (${target.death() ?? "server alive"})`;
            expect(outcome, `${summary} — the editor gets an answer`).not.toBe("no answer");
            if (c.verdict === "accept") expect(outcome, summary).toBe("accepted");
            if (c.verdict === "reject") expect(outcome, `${summary} — must be refused`).not.toBe("accepted");
            s.intact(summary);
            if (outcome !== "accepted") expect(sameBytes(await s.snapshot(), before), `${summary} — a refused edit changed the actor's state`).toBe(true);
            await s.healthy(label);
          }
        } finally {
          await s.dispose();
        }
      },
      TEST_TIMEOUT_MS,
    );
  }
});

/**
 * Issue 15, the y-websocket endpoint as an attacker meets it: garbage and text frames,
 * oversized frames and awareness states, unknown actors and bad URLs, awareness forged for
 * another client's id, too many sockets from one address, a socket that never speaks.
 * Every one is refused (a close code or an HTTP status) and changes nothing; the server and
 * the honest peers on the same actor go on.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup, Unauthorized } from "tandem";
import { waitFor } from "./seed-helpers.ts";
import { encodeAwarenessUpdate } from "./support/awareness-wire.ts";
import { random, seeds } from "./support/random.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { recordUncaught } from "./support/uncaught.ts";
import WebSocket from "ws";
import { deniedReasons, useYjsProviders, yjsAwareness, yjsBase, yjsSync } from "./support/yjs-provider.ts";

const pad = actor({
  state: { notes: new Y.Text("") },
  onAuth: ({ params }) => {
    if (!params?.user) throw new Unauthorized();
    return { userId: params.user };
  },
  canEdit: () => true,
  actions: { read: (c) => c.state.notes.toString() },
});

const registry = setup({ use: { pad } });
type R = typeof registry;

const net = useNetwork();
const yjs = useYjsProviders();
const uncaught = recordUncaught();

type States = Map<number, Record<string, unknown>>;
const notesOf = (doc: Y.Doc) => doc.getMap("state").get("notes") as Y.Text;

const awarenessMessage = yjsAwareness;
const step1 = (doc: Y.Doc) => yjsSync(0, Y.encodeStateVector(doc));

describe("the y-websocket endpoint under attack", () => {
  test("garbage frames (seeded): each is refused with a 44xx close or changes nothing; an honest provider goes on", async () => {
    const server = await net.server(registry);
    const honest = yjs.provider(server.url, "pad", "g", { user: "ada" });
    await honest.synced;
    notesOf(honest.doc).insert(0, "kept");
    await waitFor(async () => (await server.client.pad.get("g").read()) === "kept", { what: "the honest edit" });
    const runs = seeds(30);
    console.log(`garbage frames: seeds ${runs[0]}..${runs.at(-1)} (SEED=<n> re-runs one)`);
    for (const seed of runs) {
      const rng = random(seed);
      const bytes = new Uint8Array(1 + rng.int(64)).map(() => rng.int(256));
      // The first byte picks a y-websocket type (or none) so the decoders past it are reached too.
      bytes[0] = rng.pick([0, 1, 2, 3, 4, 200]);
      if (bytes[0] === 0 && bytes.length > 1) bytes[1] = rng.int(4);
      const socket = yjs.raw(`${yjsBase(server.url, "pad")}/g?user=mallory`);
      await socket.opened;
      socket.ws.send(bytes);
      const outcome = await Promise.race([socket.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 300))]);
      if (outcome !== null && (outcome.code < 4400 || outcome.code > 4499)) {
        throw new Error(`seed ${seed}: closed with ${outcome.code} ${outcome.reason} for [${bytes.join(",")}]`);
      }
      socket.ws.terminate();
    }
    expect(await server.client.pad.get("g").read()).toBe("kept");
    notesOf(honest.doc).insert(4, "!");
    await waitFor(async () => (await server.client.pad.get("g").read()) === "kept!", { what: "the honest provider still editing" });
    expect(uncaught).toEqual([]);
  });

  test("a text frame is refused (4400); a socket that never speaks is closed after helloTimeoutMs", async () => {
    const server = await net.server(registry, { limits: { helloTimeoutMs: 200 } });
    const text = yjs.raw(`${yjsBase(server.url, "pad")}/t?user=ada`);
    await text.opened;
    text.ws.send("hello");
    expect((await text.closed).code).toBe(4400);
    const silent = yjs.raw(`${yjsBase(server.url, "pad")}/t?user=ada`);
    await silent.opened;
    const closed = await silent.closed;
    expect(closed.code).toBe(4400);
    expect(closed.reason).toBe("no hello");
  });

  test("an oversized frame is refused (4413); an awareness state over maxPresenceStateBytes is refused without a close; nothing changes", async () => {
    const server = await net.server(registry, { limits: { maxFrameBytes: 4096, maxPresenceStateBytes: 512 } });
    const big = yjs.provider(server.url, "pad", "o", { user: "ada" });
    await big.synced;
    notesOf(big.doc).insert(0, "x".repeat(5000));
    expect((await big.closed).code).toBe(4413);
    expect(await server.client.pad.get("o").read()).toBe("");

    const client = net.client<R>(server.url);
    const watcher = client.pad.getOrCreate("o", { params: { user: "carol" } }).connect();
    await watcher.whenSynced();
    const loud = yjs.provider(server.url, "pad", "o", { user: "bob" });
    const denied = deniedReasons(loud.provider);
    await loud.synced;
    loud.provider.awareness.setLocalState({ blob: "y".repeat(1000) });
    await waitFor(() => denied.length > 0, { what: "the refusal told to the provider" });
    expect(denied[0]).toContain("message_too_large");
    expect((watcher.awareness.getStates() as States).has(loud.doc.clientID)).toBe(false);
    // The document still syncs: presence is not the document.
    notesOf(loud.doc).insert(0, "still editing");
    await waitFor(() => watcher.state?.notes.toString() === "still editing", { what: "the provider's edit after the refusal" });
  });

  test("an unknown actor is closed 4404; URLs without an actor, with a key too long or a __proto__ param are refused before the upgrade (400)", async () => {
    const server = await net.server(registry);
    const unknown = yjs.provider(server.url, "nosuchactor", "k", { user: "ada" });
    const closed = await unknown.closed;
    expect(closed.code).toBe(4404);
    expect(closed.reason).toContain("actor_not_found");
    const base = yjsBase(server.url, "pad");
    const root = base.replace(/\/pad$/, "");
    for (const url of [`${root}/`, `${root}//k`, `${base}/k?__proto__=x&user=ada`, `${base}/${"k".repeat(2000)}`]) {
      const socket = yjs.raw(url);
      await expect(socket.opened, url).rejects.toMatchObject({ status: 400 });
    }
  });

  test("awareness forged for another client's id: echoes of what it was told are dropped, a newer state is refused (the provider is told, the socket stays); the victim's state stays as it was", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const watcher = client.pad.getOrCreate("f", { params: { user: "carol" } }).connect();
    await watcher.whenSynced();
    const victim = yjs.provider(server.url, "pad", "f", { user: "ada" });
    await victim.synced;
    victim.provider.awareness.setLocalState({ cursor: 1 });
    const id = victim.doc.clientID;
    await waitFor(() => (watcher.awareness.getStates() as States).get(id)?.cursor === 1, { what: "the victim's cursor" });
    const clock = watcher.awareness.meta.get(id)!.clock;

    const attacker = yjs.raw(`${yjsBase(server.url, "pad")}/f?user=mallory`);
    await attacker.opened;
    attacker.ws.send(step1(new Y.Doc()));
    const seen: unknown[] = [];
    watcher.awareness.on("change", () => seen.push((watcher.awareness.getStates() as States).get(id)?.cursor));
    // What it was told, sent back (a stock provider does that): skipped, not applied.
    attacker.ws.send(awarenessMessage(encodeAwarenessUpdate([{ clientId: id, clock, json: JSON.stringify({ cursor: 666 }) }])));
    // A newer state for the victim's id: refused (the provider is told); nothing of it applies.
    attacker.ws.send(awarenessMessage(encodeAwarenessUpdate([{ clientId: id, clock: clock + 5, json: JSON.stringify({ cursor: 666 }) }])));
    await waitFor(() => attacker.messages.some((m) => m[0] === 2 && new TextDecoder().decode(m).includes("belongs to another connection")), { what: "the refusal" });
    victim.provider.awareness.setLocalStateField("cursor", 2);
    await waitFor(() => (watcher.awareness.getStates() as States).get(id)?.cursor === 2, { what: "the victim still moving its cursor" });
    expect((watcher.awareness.getStates() as States).get(id)?.user).toEqual({ userId: "ada" });

    // A removal of the victim's id one clock past what it was told (a provider's 30 s timeout of a peer) is an echo too; two past is refused.
    const now = watcher.awareness.meta.get(id)!.clock;
    const before = attacker.messages.length;
    attacker.ws.send(awarenessMessage(encodeAwarenessUpdate([{ clientId: id, clock: now + 1, json: "null" }])));
    attacker.ws.send(awarenessMessage(encodeAwarenessUpdate([{ clientId: id, clock: now + 2, json: "null" }])));
    await waitFor(() => attacker.messages.slice(before).filter((m) => m[0] === 2).length === 1, { what: "one refusal" });
    expect((watcher.awareness.getStates() as States).get(id)?.cursor).toBe(2);
    expect(seen).not.toContain(666);
    expect(attacker.ws.readyState).toBe(WebSocket.OPEN);
  });

  test("sockets per address are capped across both endpoints: one too many is closed 4429", async () => {
    const server = await net.server(registry, { limits: { maxSocketsPerAddress: 2 } });
    const client = net.client<R>(server.url);
    const conn = client.pad.getOrCreate("c", { params: { user: "ada" } }).connect();
    await conn.whenSynced();
    const first = yjs.provider(server.url, "pad", "c", { user: "ada" });
    await first.synced;
    const second = yjs.provider(server.url, "pad", "c", { user: "bob" });
    expect((await second.closed).code).toBe(4429);
    notesOf(first.doc).insert(0, "still here");
    await waitFor(() => conn.state?.notes.toString() === "still here", { what: "the admitted provider's edit" });
  });
});

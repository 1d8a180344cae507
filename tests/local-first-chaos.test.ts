/**
 * Seeded chaos: K clients (each behind its own TCP proxy, with its own storage and
 * predictions) call actions and edit a shared text while links are cut and restored,
 * clients reload (a new client over the same storage) and the server restarts (same storage,
 * new port). After quiescence:
 * - the actor and every replica have equal state vectors and equal JSON;
 * - every action is applied at most once, every confirmed one exactly once, rejected ones
 *   leave no trace, nothing stays pending;
 * - at every step, each client's view showed the predictions of its pending actions.
 * The seed is in the test name; re-run one with SEED=<n>; CHAOS_SEEDS=<n> runs n seeds
 * (100 by default, e.g. CHAOS_SEEDS=2000 on demand), SEED_BASE=<n> shifts them.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup, UserError } from "tandem";
import { type ActorConnection, type Client, createClient, memoryStorage, type ClientStorage } from "tandem/client";
import { createServer, memoryDriver, type TandemServer } from "tandem/server";
import { random, seeds } from "./support/random.ts";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";
import { hubOf } from "../server/network/actor-hub.ts";

const board = actor({
  state: { items: [] as string[], notes: new Y.Text("") },
  canEdit: () => true,
  actions: {
    add: (c, id: string) => {
      if (id.endsWith("!")) throw new UserError("refused", { code: "refused" });
      c.state.items.push(id);
      return id;
    },
  },
});
const registry = setup({ use: { board } });
type R = typeof registry;
type Conn = ActorConnection<R["actors"]["board"]>;

const optimistic = {
  board: {
    add: (state: { items: string[] }, id: string) => {
      state.items.push(id);
    },
  },
};

interface Peer {
  readonly storage: ClientStorage;
  readonly proxy: TcpProxy;
  client: Client<R>;
  conn: Conn;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function quiesce(peers: Peer[], what: string): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    if (peers.every((peer) => peer.conn.status === "synced" && peer.conn.pending === 0)) return;
    await settle(10);
  }
  throw new Error(`no quiescence (${what}): ${peers.map((p) => `${p.conn.status}/${p.conn.pending}`).join(" ")}`);
}

describe("chaos: cuts, reloads, restarts", () => {
  for (const seed of seeds(Number(process.env.CHAOS_SEEDS ?? 100))) {
    test(`seed ${seed}`, { timeout: 60_000 }, async () => {
      const r = random(seed);
      const driver = memoryDriver();
      let server: TandemServer<R> = createServer(registry, { driver, logger: false, closeRetryAfterMs: 20 });
      await server.listen();
      const peers: Peer[] = [];
      const confirmed = new Set<string>();
      const rejected = new Set<string>();
      const called = new Set<string>();
      const log: string[] = [];
      const open = (storage: ClientStorage, proxy: TcpProxy): Pick<Peer, "client" | "conn"> => {
        const client = createClient<R>(proxy.url, { storage, optimistic, backoff: { baseMs: 5, maxMs: 40, random: r.next } });
        const conn = client.board.getOrCreate("chaos").connect();
        conn.onSettled((entry) => {
          const id = entry.args[0] as string;
          if (entry.status === "confirmed") confirmed.add(id);
          else if (entry.error?.code === "refused") rejected.add(id);
        });
        return { client, conn };
      };
      try {
        for (let k = 0; k < 3; k++) {
          const storage = memoryStorage();
          const proxy = await tcpProxy(server.port);
          peers.push({ storage, proxy, ...open(storage, proxy) });
        }
        await Promise.all(peers.map((peer) => peer.conn.whenSynced()));
        let n = 0;
        for (let step = 0; step < 30; step++) {
          const peer = r.pick(peers);
          const op = r.int(10);
          if (op <= 3) {
            const id = `${peers.indexOf(peer)}-${n++}${r.bool(0.15) ? "!" : ""}`;
            called.add(id);
            log.push(`add ${id}`);
            peer.conn.add(id).then(
              () => confirmed.add(id),
              (error: { code?: string }) => {
                if (error.code === "refused") rejected.add(id);
              },
            );
          } else if (op === 4) {
            const text = peer.conn.doc.getMap("state").get("notes") as Y.Text | undefined;
            if (text) {
              text.insert(r.int(text.length + 1), r.string(3));
              log.push(`edit ${peers.indexOf(peer)}`);
            }
          } else if (op === 5) {
            log.push(`cut ${peers.indexOf(peer)}`);
            peer.proxy.cut();
          } else if (op === 6) {
            log.push(`restore ${peers.indexOf(peer)}`);
            peer.proxy.restore();
          } else if (op === 7) {
            log.push(`reload ${peers.indexOf(peer)}`);
            peer.conn.dispose();
            peer.client.dispose();
            Object.assign(peer, open(peer.storage, peer.proxy));
          } else if (op === 8 && r.bool(0.5)) {
            log.push("restart server");
            await server.close();
            server = createServer(registry, { driver, logger: false, closeRetryAfterMs: 20 });
            await server.listen();
            for (const each of peers) each.proxy.targetPort = server.port;
          } else {
            await settle(r.int(15));
          }
          // the view shows every pending action's prediction, in order
          for (const each of peers) {
            const state = each.conn.state as { items: string[] } | undefined;
            if (state === undefined) continue;
            const items = [...state.items];
            for (const entry of each.conn.outbox) {
              const id = entry.args[0] as string;
              expect(items.includes(id), `seed ${seed}: pending ${id} missing from the view after ${log.join(", ")}`).toBe(true);
            }
          }
        }
        for (const peer of peers) peer.proxy.restore();
        await quiesce(peers, log.join(", "));
        // Quiescence: nothing pending anywhere and every replica has what the actor has.
        const actorVector = () => Y.encodeStateVector([...server.runtime.loaded.values()][0]!.doc).join();
        const until = Date.now() + 5000;
        while (Date.now() < until && !peers.every((peer) => Y.encodeStateVector(peer.conn.doc).join() === actorVector())) await settle(10);

        const instance = [...server.runtime.loaded.values()][0]!;
        const actorDoc = instance.doc;
        const fanoutSize = hubOf(instance).fanout.subscribers.size;
        const items = (actorDoc.getMap("state").get("items") as Y.Array<string>).toArray();
        const context = `seed ${seed} (SEED=${seed}) after: ${log.join(", ")}`;
        expect(new Set(items).size, `duplicates: ${context}`).toBe(items.length);
        for (const id of items) expect(called.has(id), context).toBe(true);
        for (const id of confirmed) expect(items, `confirmed ${id} missing: ${context}`).toContain(id);
        for (const id of rejected) expect(items, context).not.toContain(id);
        for (const id of items) expect(id.endsWith("!"), context).toBe(false);
        const vector = Y.encodeStateVector(actorDoc);
        const json = actorDoc.getMap("state").toJSON();
        for (const peer of peers) {
          const detail = () =>
            `${context}\nfanout ${fanoutSize} conns ${instance.conns.size} peer ${peers.indexOf(peer)} status ${peer.conn.status}: sv ${JSON.stringify([...Y.decodeStateVector(Y.encodeStateVector(peer.conn.doc))])} vs actor ${JSON.stringify([...Y.decodeStateVector(vector)])}; peer ${JSON.stringify(peer.conn.doc.getMap("state").toJSON())} actor ${JSON.stringify(json)}`;
          expect(Y.encodeStateVector(peer.conn.doc), detail()).toEqual(vector);
          expect(peer.conn.doc.getMap("state").toJSON(), context).toEqual(json);
          expect(JSON.parse(JSON.stringify(peer.conn.state)), context).toEqual({ items, notes: json.notes });
        }
      } finally {
        for (const peer of peers) {
          peer.conn.dispose();
          peer.client.dispose();
          await peer.proxy.close();
        }
        await server.close();
      }
    });
  }
});

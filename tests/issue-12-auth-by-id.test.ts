/**
 * Issue 12 (item 5): `onAuth` sees the real key of a by-id target. An actor id is a hash of
 * its kind and key that anyone can compute, so an ACL on the key must hold for `getForId`
 * too, over WebSocket and HTTP. An unknown id is actor_not_found without running onAuth.
 */
import { beforeEach, describe, expect, test } from "vitest";
import { actor, Forbidden, setup } from "tandem";
import { memoryDriver } from "tandem/server";
import { actorId } from "../server/runtime/actor-id.ts";
import { rejection, within } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const seen: (readonly string[])[] = [];

/** Each user may open only the actors whose key starts with their own name. */
const inbox = actor({
  state: { items: [] as string[] },
  onAuth: ({ params, actor: target }) => {
    seen.push(target.key);
    if (target.key[0] !== params.user) throw new Forbidden(`${String(params.user)} may not open ${JSON.stringify(target.key)}`);
    return { user: params.user };
  },
  actions: {
    add: (c, item: string) => {
      c.state.items.push(item);
      return c.state.items.length;
    },
    secret: (c) => `secret of ${c.state.items.join(",")}`,
  },
});
const other = actor({ state: {}, actions: { ping: () => "pong" } });
const registry = setup({ use: { inbox, other } });
type R = typeof registry;

const net = useNetwork();

beforeEach(() => {
  seen.length = 0;
});

async function setupInbox() {
  const server = await net.server(registry, { driver: memoryDriver() });
  const client = net.client<R>(server.url);
  await client.inbox.getOrCreate(["alice", "mail"], { params: { user: "alice" } }).add("hello");
  const id = actorId("inbox", ["alice", "mail"]);
  seen.length = 0;
  return { server, client, id };
}

describe("onAuth of a by-id target gets the real key", () => {
  test("HTTP: the owner passes, another user is refused; onAuth saw the key", async () => {
    const { client, id } = await setupInbox();
    expect(await client.inbox.getForId(id, { params: { user: "alice" } }).secret()).toBe("secret of hello");
    expect(await rejection(client.inbox.getForId(id, { params: { user: "mallory" } }).secret())).toMatchObject({ code: "forbidden" });
    expect(seen).toEqual([["alice", "mail"], ["alice", "mail"]]);
  });

  test("WebSocket: the owner connects, another user is refused; onAuth saw the key", async () => {
    const { client, id } = await setupInbox();
    const owner = client.inbox.getForId(id, { params: { user: "alice" } }).connect();
    await within(owner.whenSynced(), 2000, "owner synced");
    expect(owner.state?.items).toEqual(["hello"]);
    const intruder = client.inbox.getForId(id, { params: { user: "mallory" } }).connect();
    expect(await rejection(within(intruder.whenSynced(), 2000, "intruder refused"))).toMatchObject({ code: "forbidden" });
    expect(seen).toEqual([["alice", "mail"], ["alice", "mail"]]);
  });

  test("the key comes from storage when the actor sleeps", async () => {
    const driver = memoryDriver();
    const first = await net.server(registry, { driver });
    await net.client<R>(first.url).inbox.getOrCreate(["alice", "mail"], { params: { user: "alice" } }).add("stored");
    await net.closeServer(first);
    const server = await net.server(registry, { driver });
    const client = net.client<R>(server.url);
    seen.length = 0;
    const id = actorId("inbox", ["alice", "mail"]);
    expect(await rejection(client.inbox.getForId(id, { params: { user: "mallory" } }).secret())).toMatchObject({ code: "forbidden" });
    const conn = client.inbox.getForId(id, { params: { user: "mallory" } }).connect();
    expect(await rejection(within(conn.whenSynced(), 2000, "refused"))).toMatchObject({ code: "forbidden" });
    expect(seen).toEqual([["alice", "mail"], ["alice", "mail"]]);
  });

  test("an unknown id, or the id of another kind, is actor_not_found and onAuth never runs", async () => {
    const { client } = await setupInbox();
    await client.other.getOrCreate("o").ping();
    const ids = [actorId("inbox", ["nobody"]), actorId("other", ["o"])];
    for (const id of ids) {
      expect(await rejection(client.inbox.getForId(id, { params: { user: "nobody" } }).secret())).toMatchObject({ code: "actor_not_found" });
      const conn = client.inbox.getForId(id, { params: { user: "nobody" } }).connect();
      expect(await rejection(within(conn.whenSynced(), 2000, "refused"))).toMatchObject({ code: "actor_not_found" });
    }
    expect(seen).toEqual([]);
  });
});

/**
 * The four examples of the seed (RivetKit launch post), end to end through the inline
 * client: chat room with onAuth, counter with events, order processor calling inventory
 * and payment actors, and a game created with input.
 */
import { describe, expect, test } from "vitest";
import { UserError } from "tandem";
import { memoryDriver } from "tandem/server";
import { authCalls, seedRegistry, type ChatMessage } from "./seed-registry.ts";
import { rejection, useServers, waitFor } from "./seed-helpers.ts";

const start = useServers();

describe("chat room with onAuth", () => {
  test("inline calls pass auth directly and onAuth does not run", async () => {
    const server = start(seedRegistry);
    const before = authCalls.chatRoom;
    const room = server.client.chatRoom.getOrCreate(["org-1", "lobby"], { auth: { userId: "alice", role: "member", permissions: [] } });
    const message = await room.sendMessage("hello");
    expect(message).toMatchObject({ userId: "alice", text: "hello" });
    expect(typeof message.id).toBe("string");
    expect(typeof message.timestamp).toBe("number");
    expect(await room.whoami()).toBe("alice");
    expect(await room.getMessages()).toEqual([message]);
    // Trusted inline calls never run onAuth, even with params that onAuth would reject.
    const withParams = server.client.chatRoom.get(["org-1", "lobby"], { params: {}, auth: { userId: "bob", role: "member", permissions: [] } });
    await withParams.sendMessage("from bob");
    expect(authCalls.chatRoom).toBe(before);
  });

  test("without auth, c.conn.auth is undefined", async () => {
    const server = start(seedRegistry);
    const room = server.client.chatRoom.getOrCreate("open");
    expect(await room.whoami()).toBeNull();
    expect(authCalls.chatRoom).toBe(0);
  });

  test("a role check throws a UserError that reaches the caller with its code and message", async () => {
    const server = start(seedRegistry);
    const member = server.client.chatRoom.getOrCreate("lobby", { auth: { userId: "alice", role: "member", permissions: [] } });
    await member.sendMessage("first");
    const guest = server.client.chatRoom.get("lobby", { auth: { userId: "eve", role: "guest", permissions: [] } });
    const error = await rejection(guest.sendMessage("let me in"));
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code: "insufficient_permissions", message: "Insufficient permissions" });
    // The refused message left no trace.
    expect((await member.getMessages()).map((m) => m.text)).toEqual(["first"]);
  });

  test("a connection receives newMessage events", async () => {
    const server = start(seedRegistry);
    const room = server.client.chatRoom.getOrCreate("live", { auth: { userId: "alice", role: "member", permissions: [] } });
    const conn = room.connect();
    const received: ChatMessage[] = [];
    conn.on("newMessage", (m) => received.push(m));
    await conn.whenSynced();
    const sent = await room.sendMessage("ping");
    await waitFor(() => received.length === 1, { what: "newMessage" });
    expect(received[0]).toEqual(sent);
    await conn.dispose();
  });
});

describe("counter", () => {
  test("increment and getCount", async () => {
    const server = start(seedRegistry);
    const counter = server.client.counter.getOrCreate("live-counter");
    expect(await counter.getCount()).toBe(0);
    expect(await counter.increment(1)).toBe(1);
    expect(await counter.increment(5)).toBe(6);
    expect(await counter.getCount()).toBe(6);
    // Another handle to the same key sees the same actor.
    expect(await server.client.counter.get("live-counter").getCount()).toBe(6);
    // A different key is a different counter.
    expect(await server.client.counter.getOrCreate("other").getCount()).toBe(0);
  });

  test("a connection receives newCount broadcasts, also for its own calls", async () => {
    const server = start(seedRegistry);
    const counter = server.client.counter.getOrCreate("live-counter");
    const connection = counter.connect();
    const counts: number[] = [];
    connection.on("newCount", (n) => counts.push(n));
    await connection.whenSynced();
    expect(await connection.increment(1)).toBe(1);
    await counter.increment(2);
    await waitFor(() => counts.length === 2, { what: "two newCount events" });
    expect(counts).toEqual([1, 3]);
    await connection.dispose();
    await counter.increment(1);
    expect(await counter.getCount()).toBe(4);
    expect(counts).toEqual([1, 3]);
  });
});

describe("order processor", () => {
  const order = (id: string, quantity: number, amount: number) => ({ id, productId: "widget", customerId: "cust-1", quantity, amount });

  test("processes an order through inventory and payment actors", async () => {
    const server = start(seedRegistry);
    await server.client.inventory.getOrCreate("widget").restock(10);
    await server.client.payment.getOrCreate("cust-1").deposit(100);
    const processor = server.client.orderProcessor.getOrCreate("main");
    expect(await processor.processOrder(order("o1", 3, 30))).toEqual({ success: true, orderId: "o1" });
    expect(await server.client.inventory.get("widget").getStock()).toEqual({ stock: 7, reserved: 3 });
    expect(await server.client.payment.get("cust-1").getBalance()).toBe(70);
    expect(await processor.getOrders()).toEqual([{ ...order("o1", 3, 30), status: "processed", paymentId: "pay-1" }]);
  });

  test("insufficient stock: UserError and no order recorded", async () => {
    const server = start(seedRegistry);
    await server.client.inventory.getOrCreate("widget").restock(2);
    await server.client.payment.getOrCreate("cust-1").deposit(100);
    const processor = server.client.orderProcessor.getOrCreate("main");
    const error = await rejection(processor.processOrder(order("o1", 3, 30)));
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code: "insufficient_stock", message: "Insufficient stock" });
    expect(await processor.getOrders()).toEqual([]);
    expect(await server.client.inventory.get("widget").getStock()).toEqual({ stock: 2, reserved: 0 });
    expect(await server.client.payment.get("cust-1").getBalance()).toBe(100);
  });

  test("a payment failure in a nested actor reaches the caller intact; no order recorded", async () => {
    const server = start(seedRegistry);
    await server.client.inventory.getOrCreate("widget").restock(10);
    await server.client.payment.getOrCreate("cust-1").deposit(10);
    const processor = server.client.orderProcessor.getOrCreate("main");
    const error = await rejection(processor.processOrder(order("o1", 3, 30)));
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code: "payment_declined", message: "Payment declined", metadata: { balance: 10, amount: 30 } });
    expect(await processor.getOrders()).toEqual([]);
    // The processor gave the reserved stock back.
    expect(await server.client.inventory.get("widget").getStock()).toEqual({ stock: 10, reserved: 0 });
  });

  test("concurrent orders never oversell", async () => {
    const server = start(seedRegistry);
    await server.client.inventory.getOrCreate("widget").restock(5);
    await server.client.payment.getOrCreate("cust-1").deposit(1000);
    const processor = server.client.orderProcessor.getOrCreate("main");
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => processor.processOrder(order(`o${i}`, 1, 10))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(
      Array(3).fill("insufficient_stock"),
    );
    expect(await processor.getOrders()).toHaveLength(5);
    expect(await server.client.payment.get("cust-1").getBalance()).toBe(950);
  });
});

describe("game created with input", () => {
  test("create(key, { input }) feeds createState", async () => {
    const server = start(seedRegistry);
    const newGame = await server.client.game.create(["game-456"], { input: { gameMode: "classic", maxPlayers: 4 } });
    expect(await newGame.getRoomInfo()).toBe("Room: classic with players 4");
    expect(await server.client.game.get(["game-456"]).getRoomInfo()).toBe("Room: classic with players 4");
    for (const player of ["a", "b", "c", "d"]) await newGame.join(player);
    await expect(newGame.join("e")).rejects.toMatchObject({ code: "game_full" });
    expect(await newGame.getPlayers()).toEqual(["a", "b", "c", "d"]);
  });

  test("getOrCreate's createWithInput is used only when the actor is created", async () => {
    const server = start(seedRegistry);
    const first = server.client.game.getOrCreate(["game-1"], { createWithInput: { gameMode: "ranked", maxPlayers: 2 } });
    expect(await first.getRoomInfo()).toBe("Room: ranked with players 2");
    const second = server.client.game.getOrCreate(["game-1"], { createWithInput: { gameMode: "casual", maxPlayers: 8 } });
    expect(await second.getRoomInfo()).toBe("Room: ranked with players 2");
  });

  test("the input survives a restart as part of the state", async () => {
    const driver = memoryDriver();
    const first = start(seedRegistry, { driver });
    await first.client.game.create(["game-456"], { input: { gameMode: "classic", maxPlayers: 4 } });
    await first.close();
    const second = start(seedRegistry, { driver });
    expect(await second.client.game.get(["game-456"]).getRoomInfo()).toBe("Room: classic with players 4");
  });

  test("the input given to create is copied", async () => {
    const server = start(seedRegistry);
    const input = { gameMode: "classic", maxPlayers: 4 };
    const handle = await server.client.game.create(["game-9"], { input });
    input.gameMode = "mutated";
    expect(await handle.getRoomInfo()).toBe("Room: classic with players 4");
  });
});

/**
 * The four examples of the seed (RivetKit launch post) as one registry: a chat room with
 * onAuth, a counter, an order processor calling inventory and payment actors, and a game
 * created with input.
 */
import { actor, event, setup, Unauthorized, UserError } from "tandem";
import { inventory, orderProcessor, payment } from "./seed-order.ts";

export interface ChatMessage {
  id: string;
  userId: string;
  text: string;
  timestamp: number;
}

/** How many times each actor kind's onAuth ran (onAuth never runs for inline calls). */
export const authCalls = { chatRoom: 0 };

export const chatRoom = actor({
  state: { messages: [] as ChatMessage[] },
  onAuth: async ({ params }) => {
    authCalls.chatRoom++;
    const token = params.authToken;
    if (!token) throw new Unauthorized();
    const [userId, role] = token.split(":");
    return { userId: userId!, role: role ?? "member", permissions: [] as string[] };
  },
  events: { newMessage: event<ChatMessage>() },
  actions: {
    sendMessage: (c, text: string) => {
      const { userId, role } = c.conn.auth;
      if (role !== "member") throw new UserError("Insufficient permissions", { code: "insufficient_permissions" });
      const message = { id: crypto.randomUUID(), userId, text, timestamp: Date.now() };
      c.state.messages.push(message);
      c.broadcast("newMessage", message);
      return message;
    },
    getMessages: (c) => c.state.messages,
    whoami: (c) => (c.conn.auth === undefined ? null : c.conn.auth.userId),
  },
});

export const counter = actor({
  state: { count: 0 },
  events: { newCount: event<number>() },
  actions: {
    increment: (c, amount: number) => {
      c.state.count += amount;
      c.broadcast("newCount", c.state.count);
      return c.state.count;
    },
    getCount: (c) => c.state.count,
  },
});

export const game = actor({
  createState: (_c, input: { gameMode: string; maxPlayers: number }) => ({
    gameMode: input.gameMode,
    maxPlayers: input.maxPlayers,
    players: [] as string[],
  }),
  actions: {
    getRoomInfo: (c) => `Room: ${c.state.gameMode} with players ${c.state.maxPlayers}`,
    join: (c, player: string) => {
      if (c.state.players.length >= c.state.maxPlayers) throw new UserError("Game is full", { code: "game_full" });
      c.state.players.push(player);
      return c.state.players.length;
    },
    getPlayers: (c) => c.state.players,
  },
});

export const seedRegistry = setup({ use: { chatRoom, counter, inventory, payment, orderProcessor, game } });

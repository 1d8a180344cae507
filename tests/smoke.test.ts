import { expect, test } from "vitest";
import { actor, setup, UserError, Unauthorized } from "tandem";
import { createServer, memoryDriver } from "tandem/server";

const chatRoom = actor({
  state: { messages: [] as { id: string; userId: string; text: string }[] },
  onAuth: async ({ params }) => {
    if (!params?.token) throw new Unauthorized();
    return { userId: params.token, role: "member" };
  },
  actions: {
    sendMessage: (c, text: string) => {
      if (c.conn.auth.role !== "member") throw new UserError("Insufficient permissions");
      const message = { id: crypto.randomUUID(), userId: c.conn.auth.userId, text };
      c.state.messages.push(message);
      c.broadcast("newMessage", message);
      return message;
    },
    getMessages: (c) => c.state.messages,
  },
});
const registry = setup({ use: { chatRoom } });

test("chat room smoke", async () => {
  const server = createServer(registry, { driver: memoryDriver(), logger: false });
  const room = server.client.chatRoom.getOrCreate("lobby", { auth: { userId: "u1", role: "member" } });
  const m = await room.sendMessage("hi");
  expect(m.text).toBe("hi");
  expect(await room.getMessages()).toEqual([m]);
  const guest = server.client.chatRoom.get("lobby", { auth: { userId: "u2", role: "guest" } });
  await expect(guest.sendMessage("x")).rejects.toMatchObject({ code: "user_error", message: "Insufficient permissions" });
  await server.close();
});

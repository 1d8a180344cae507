/**
 * The board's client for one signed-in user: todos show at once through optimistic
 * predictions (the server's rules decide: a too-long todo shows, then rolls back with the
 * server's error). Made outside React, by the page, and disposed by it on sign-out.
 */
import { createClient, type Client } from "tandem/client";
import type { Registry } from "../actors.ts";

export function createBoardClient(name: string): Client<Registry> {
  return createClient<Registry>(location.origin, {
    // Reconnect quickly once the network is back: a demo is watched, not deployed at scale.
    backoff: { baseMs: 250, maxMs: 3000 },
    optimistic: {
      board: {
        addTodo: (state, text) => {
          state.todos.push({ id: "", text: String(text).trim(), done: false, author: name });
        },
        toggleTodo: (state, id) => {
          const todo = state.todos.find((t) => t.id === id);
          if (todo) todo.done = !todo.done;
        },
        deleteTodo: (state, id) => {
          const index = state.todos.findIndex((t) => t.id === id);
          if (index >= 0) state.todos.splice(index, 1);
        },
      },
    },
  });
}

/**
 * The module the cluster tests serve on every node (`tandem serve … --redis`): `log` keeps
 * what each stream sent, in the order applied, so a lost, doubled or reordered write is
 * visible; `slowAdd` holds its write for a while (a node paused meanwhile must find its write
 * refused by Redis); `later` schedules an append (an alarm that must fire once, on one node,
 * also after its owner died); `shout` broadcasts an event.
 */
import { actor, setup } from "tandem";

export const log = actor({
  state: { items: [] as string[] },
  actions: {
    add: (c, item: string) => {
      if (typeof item !== "string") throw new TypeError("add takes a string");
      c.state.items.push(item);
      c.broadcast("added", item);
      return c.state.items.length;
    },
    slowAdd: async (c, item: string, ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      c.state.items.push(item);
      return c.state.items.length;
    },
    later: (c, item: string, ms: number) => {
      c.schedule.after(ms, "add", item);
    },
    items: (c) => [...c.state.items],
  },
});

export const registry = setup({ use: { log } });

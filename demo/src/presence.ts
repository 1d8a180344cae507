/** Who is here: one chip per user (a user with several tabs or connections appears once). */
import type { Awareness } from "y-protocols/awareness";
import { colorOf } from "../colors.ts";
import { h } from "./dom.ts";

interface Member {
  name: string;
  color: string;
  viewer: boolean;
  self: boolean;
}

export function renderPresence(list: HTMLElement, awareness: Awareness, me: { name: string; viewer: boolean }): void {
  const members = new Map<string, Member>();
  members.set(me.name, { name: me.name, color: colorOf(me.name), viewer: me.viewer, self: true });
  for (const [clientId, state] of awareness.getStates()) {
    if (clientId === awareness.clientID) continue;
    const user = (state as { user?: { name?: unknown; color?: unknown; viewer?: unknown } }).user;
    if (typeof user?.name !== "string") continue;
    const existing = members.get(user.name);
    const viewer = user.viewer === true;
    if (existing) existing.viewer &&= viewer;
    else members.set(user.name, { name: user.name, color: typeof user.color === "string" ? user.color : colorOf(user.name), viewer, self: false });
  }
  list.replaceChildren(
    ...[...members.values()].map((member) =>
      h(
        "li",
        { class: `member${member.self ? " self" : ""}`, dataset: { name: member.name }, title: `${member.name}${member.self ? " (you)" : ""}${member.viewer ? " — viewing" : ""}`, style: { "--c": member.color } },
        h("span", { class: "avatar", "aria-hidden": "true" }, initials(member.name)),
        h("span", { class: "member-name" }, member.self ? `${member.name} (you)` : member.name),
        member.viewer ? h("span", { class: "member-role" }, "viewer") : null,
      ),
    ),
  );
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/);
  return ((parts[0]?.[0] ?? "") + (parts.length > 1 ? (parts.at(-1)?.[0] ?? "") : "")).toUpperCase();
}

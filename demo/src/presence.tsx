/** Who is here: one chip per user (a user with several tabs or connections appears once). */
import type { CSSProperties } from "react";
import { usePresence, type PresenceSource } from "tandem/react";
import { colorOf } from "../colors.ts";

interface Member {
  name: string;
  color: string;
  viewer: boolean;
  self: boolean;
}

/** What the server stamps in every presence state (the board's `identity`). */
type PresenceState = { user?: { name?: unknown; color?: unknown; viewer?: unknown } };

export function PresenceList({ conn, me }: { conn: PresenceSource; me: { name: string; viewer: boolean } }) {
  const { others } = usePresence<PresenceState>(conn);
  const members = new Map<string, Member>();
  members.set(me.name, { name: me.name, color: colorOf(me.name), viewer: me.viewer, self: true });
  for (const { state } of others) {
    const user = state.user;
    if (typeof user?.name !== "string") continue;
    const existing = members.get(user.name);
    const viewer = user.viewer === true;
    if (existing) existing.viewer &&= viewer;
    else members.set(user.name, { name: user.name, color: typeof user.color === "string" ? user.color : colorOf(user.name), viewer, self: false });
  }
  return (
    <ul id="presence" className="presence" aria-label="Who is here">
      {[...members.values()].map((member) => (
        <li
          key={member.name}
          className={`member${member.self ? " self" : ""}`}
          data-name={member.name}
          title={`${member.name}${member.self ? " (you)" : ""}${member.viewer ? " — viewing" : ""}`}
          style={{ "--c": member.color } as CSSProperties}
        >
          <span className="avatar" aria-hidden="true">
            {initials(member.name)}
          </span>
          <span className="member-name">{member.self ? `${member.name} (you)` : member.name}</span>
          {member.viewer ? <span className="member-role">viewer</span> : null}
        </li>
      ))}
    </ul>
  );
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/);
  return ((parts[0]?.[0] ?? "") + (parts.length > 1 ? (parts.at(-1)?.[0] ?? "") : "")).toUpperCase();
}

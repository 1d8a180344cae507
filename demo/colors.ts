/**
 * A stable colour per user name, used for presence (the server stamps it into awareness
 * through the actor's `identity`) and for the signed-in user's own chip.
 */
const PALETTE = ["#e8590c", "#1c7ed6", "#2f9e44", "#ae3ec9", "#d6336c", "#0c8599", "#f08c00", "#5f3dc4", "#c92a2a", "#087f5b"];

export function colorOf(name: string): string {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  return PALETTE[(hash >>> 0) % PALETTE.length]!;
}

/** The selection colour (y-codemirror's `colorLight`): the same hue, mostly transparent. */
export function lightColorOf(name: string): string {
  return `${colorOf(name)}33`;
}

/**
 * The nesting limit of values on the wire (MAX_VALUE_DEPTH), for values that did not come
 * through `readValue`: an HTTP body parsed as JSON can nest as deep as its bytes allow, and
 * every later recursive walk of it (validation, the draft, Yjs) would overflow the stack.
 * Checked without recursion, with the depth counted as `readValue` counts it: the value
 * itself at depth 0, its members at 1, and so on.
 */
import { MAX_VALUE_DEPTH } from "./value.ts";

/** True when `value` holds a member deeper than `maxDepth` (iterative: any depth is safe to ask about). */
export function nestsDeeperThan(value: unknown, maxDepth: number = MAX_VALUE_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (depth > maxDepth) return true;
    if (typeof current !== "object" || current === null || ArrayBuffer.isView(current)) continue;
    const members = Array.isArray(current) ? current : Object.values(current);
    for (const member of members) stack.push([member, depth + 1]);
  }
  return false;
}

/**
 * Structural sharing of plain data (as TanStack Query's `replaceEqualDeep`): the new value,
 * with every part deeply equal to the previous one replaced by the previous one. A selection
 * that did not change comes back as the very same object (no re-render), and one that did
 * keeps its unchanged parts (memoized children of them do not re-render either).
 * Below MAX_SHARING_DEPTH levels values are compared by identity only: a selector may return
 * anything, cycles included, and the walk must end.
 */

/** How deep equal parts are looked for (state and presence nest far less). */
export const MAX_SHARING_DEPTH = 64;

/** `next` with the parts equal to `previous` taken from `previous`; `previous` itself if all are. */
export function shareEqual<T>(previous: unknown, next: T, depth = 0): T {
  if (Object.is(previous, next)) return previous as T;
  if (depth >= MAX_SHARING_DEPTH) return next;
  if (Array.isArray(previous) && Array.isArray(next)) {
    let same = previous.length === next.length;
    const shared = next.map((item: unknown, index) => {
      const kept = shareEqual(previous[index], item, depth + 1);
      if (!Object.is(kept, previous[index])) same = false;
      return kept;
    });
    return (same ? previous : shared) as T;
  }
  if (isPlainObject(previous) && isPlainObject(next)) {
    const keys = Object.keys(next);
    let same = keys.length === Object.keys(previous).length;
    const entries = keys.map((key): [string, unknown] => {
      const before = Object.hasOwn(previous, key) ? previous[key] : undefined;
      if (!Object.hasOwn(previous, key)) same = false;
      const kept = shareEqual(before, next[key], depth + 1);
      if (!Object.is(kept, before)) same = false;
      return [key, kept];
    });
    // fromEntries defines own properties: a "__proto__" key stays a key.
    return (same ? previous : Object.fromEntries(entries)) as T;
  }
  if (previous instanceof Uint8Array && next instanceof Uint8Array && sameBytes(previous, next)) return previous as T;
  return next;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

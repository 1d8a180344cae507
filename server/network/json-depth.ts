/**
 * How deep a JSON text nests, found by scanning its characters: no recursion and no parsing,
 * so the check itself cannot overflow the stack, whatever the text. Awareness states are
 * checked with it before JSON.parse, so no state the server holds can make JSON.stringify
 * (or a client's parser) overflow later.
 */

/** True when objects and arrays in `json` nest deeper than `max` (the outermost counts 1). */
export function jsonNestsDeeperThan(json: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

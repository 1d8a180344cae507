/**
 * The actor a y-websocket socket syncs, from its URL: `{base}/yjs/<actorName>/<key part>/…`
 * (a provider built as `new WebsocketProvider(`${base}/yjs/<actorName>`, room, doc)` appends
 * `/<room>`: the room is the key, its parts URI-encoded and joined by `/`), and the query
 * string's parameters as the connection params onAuth sees (all strings). Parts are read
 * from the raw URL: `%2F` inside a part stays inside it.
 */
import { InvalidArguments } from "../../shared/errors.ts";
import { normalizeKey } from "../../shared/key.ts";
import type { YjsTarget } from "../network/yjs/yjs-session.ts";

/** `url` as requested (path and query, still encoded); `route` the matched route, ending in `/*`. */
export function yjsTarget(url: string, route: string): YjsTarget {
  const query = url.indexOf("?");
  const path = query < 0 ? url : url.slice(0, query);
  const base = route.slice(0, -1);
  if (!route.endsWith("/*") || !path.startsWith(base)) throw new InvalidArguments("Not a y-websocket URL");
  const [name = "", ...parts] = path.slice(base.length).split("/").map(decodePart);
  if (name === "") throw new InvalidArguments("A y-websocket URL names an actor: /yjs/<actorName>/<key>");
  return { name, key: normalizeKey(parts), params: query < 0 ? undefined : paramsOf(url.slice(query + 1)) };
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidArguments("A y-websocket URL part is not valid percent-encoding");
  }
}

function paramsOf(query: string): Readonly<Record<string, string>> | undefined {
  const params: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of new URLSearchParams(query)) {
    if (name === "__proto__") throw new InvalidArguments(`"__proto__" is not allowed as a parameter name`);
    params[name] = value;
    count++;
  }
  return count === 0 ? undefined : params;
}

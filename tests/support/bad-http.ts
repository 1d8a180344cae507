/**
 * Generated requests to `POST /actors/:name/actions/:action` (body: `{ key, args, … }`):
 * arguments nested 1..10,000 deep (stored by `put`, or only passed to `echo`), huge
 * arguments up to just under the body limit and just over it, wrong types (args, key,
 * mode, id), bodies that are not JSON, `__proto__` keys, missing and odd content types,
 * unknown names. Each says whether the call must succeed, must be refused (4xx) or either.
 */
import { FRAME_LIMIT, deepJson, depth, logUniform, randomBytes, size, verdictForDepth, type Verdict } from "./fuzz-shapes.ts";
import type { Random } from "./random.ts";

export interface HttpCase {
  readonly what: string;
  readonly path: string;
  /** The content-type header; null sends none. */
  readonly contentType: string | null;
  readonly body: string | Uint8Array;
  readonly verdict: Verdict;
  /** The status a refusal must have, when there is exactly one right answer. */
  readonly status?: number;
  /** For a successful put: the key and the value as JSON text (checked when shallow). */
  readonly stores?: { readonly key: string; readonly json: string; readonly levels: number };
  /** For a successful echo: the value as JSON text (checked when shallow). */
  readonly echoes?: { readonly json: string; readonly levels: number };
}

const JSON_TYPE = "application/json";
const action = (name: string) => `/actors/target/actions/${name}`;

/** How many kinds of case there are (`kind` is one of 0..HTTP_KINDS-1; 0 is a put nested past any limit, 1 one of any depth). */
export const HTTP_KINDS = 11;

export function httpCase(rng: Random, kind: number, key: string, marker: number): HttpCase {
  const k = JSON.stringify(key);
  switch (kind) {
    case 0:
    case 1: {
      const levels = depth(rng, kind === 0);
      const json = deepJson(levels, rng.pick(["object", "array"] as const));
      const name = `v${marker}`;
      // args → value: levels + 1 on the wire; state → values → value: levels + 2 in the state.
      return { what: `put of a value nested ${levels} deep`, path: action("put"), contentType: JSON_TYPE, body: `{"key":${k},"args":["${name}",${json}]}`, verdict: verdictForDepth(levels + 2), stores: { key: name, json, levels } };
    }
    case 2: {
      const levels = depth(rng);
      const json = deepJson(levels, rng.pick(["object", "array"] as const));
      return { what: `echo of an argument nested ${levels} deep`, path: action("echo"), contentType: JSON_TYPE, body: `{"key":${k},"args":[${json}]}`, verdict: verdictForDepth(levels + 1), echoes: { json, levels } };
    }
    case 3: {
      // Huge, under the limit: an echo up to just under it, a put of up to 64 KB (it is stored).
      const stored = rng.bool(0.3);
      const length = stored ? logUniform(rng, 64 * 1024) : size(rng, FRAME_LIMIT - 512);
      const json = `"${"h".repeat(length)}"`;
      if (stored) return { what: `put of a ${length}-character string`, path: action("put"), contentType: JSON_TYPE, body: `{"key":${k},"args":["h${marker}",${json}]}`, verdict: "accept", stores: { key: `h${marker}`, json, levels: 0 } };
      return { what: `echo of a ${length}-character string`, path: action("echo"), contentType: JSON_TYPE, body: `{"key":${k},"args":[${json}]}`, verdict: "accept", echoes: { json, levels: 0 } };
    }
    case 4: {
      const length = FRAME_LIMIT + 1 + rng.int(64 * 1024);
      return { what: `a body of ${length + 20} bytes (over the limit)`, path: action("echo"), contentType: JSON_TYPE, body: `{"key":${k},"args":["${"o".repeat(length)}"]}`, verdict: "reject", status: 413 };
    }
    case 5: {
      const body = rng.pick([
        `{"key":${k},"args":["1"]}`,
        `{"key":${k},"args":[1.5]}`,
        `{"key":${k},"args":[null]}`,
        `{"key":${k},"args":[{}]}`,
        `{"key":${k},"args":[[1]]}`,
        `{"key":${k},"args":[]}`,
        `{"key":${k},"args":"1"}`,
        `{"key":${k},"args":{"0":1}}`,
        `{"key":${k},"args":5}`,
        `{"key":5,"args":[1]}`,
        `{"key":{"a":1},"args":[1]}`,
        `{"key":[1,[2]],"args":[1]}`,
        `{"key":${k},"mode":"weird","args":[1]}`,
        `{"key":${k},"mode":7,"args":[1]}`,
        `{"id":123,"args":[1]}`,
        `{"id":{"a":1},"args":[1]}`,
        "[1,2,3]",
        '"a string"',
        "42",
        "null",
      ]);
      return { what: `wrong types: ${body}`, path: action("bump"), contentType: JSON_TYPE, body, verdict: "reject" };
    }
    case 6: {
      const body = rng.bool(0.3) ? new TextDecoder().decode(randomBytes(rng, logUniform(rng, 4096))) : rng.pick(["{", "nul", `{"key":`, "[1,2", "{'key':'x'}", "\u0000", "", `{"key":${k},"args":[1],}`, "{}}"]);
      return { what: `a body that is not JSON (${JSON.stringify(body.slice(0, 40))})`, path: action("bump"), contentType: JSON_TYPE, body, verdict: "reject" };
    }
    case 7: {
      const body = rng.pick([
        `{"key":${k},"args":[{"__proto__":{"polluted":1}}]}`,
        `{"key":${k},"args":[{"constructor":{"prototype":{"polluted":1}}}]}`,
        `{"key":${k},"args":[1],"__proto__":{"polluted":1}}`,
        `{"__proto__":{"key":${k},"args":[1]}}`,
      ]);
      return { what: `__proto__ keys in an echo: ${body}`, path: action("echo"), contentType: JSON_TYPE, body, verdict: "either" };
    }
    case 8: {
      const body = rng.pick([
        `{"key":${k},"args":["__proto__",1]}`,
        `{"key":${k},"args":["p${marker}",{"__proto__":{"polluted":1}}]}`,
        `{"key":${k},"args":["p${marker}",{"a":{"constructor":{"prototype":{"polluted":1}}}}]}`,
      ]);
      return { what: `__proto__ keys in a put: ${body}`, path: action("put"), contentType: JSON_TYPE, body, verdict: body.includes('["__proto__"') ? "reject" : "either" };
    }
    case 9: {
      const contentType = rng.pick([null, "text/plain", "application/x-www-form-urlencoded", "application/octet-stream", "application/json; charset=utf-8", "application/JSON", "multipart/form-data; boundary=x", "application/json, text/plain", "", "application/json; charset=latin1"]);
      const text = `{"key":${k},"args":[${marker}]}`;
      return { what: `an echo with content-type ${JSON.stringify(contentType)}`, path: action("echo"), contentType, body: contentType === null ? new TextEncoder().encode(text) : text, verdict: "either" };
    }
    default: {
      const path = rng.pick(["/actors/nope/actions/echo", action("nope"), action("__proto__"), action("constructor"), "/actors/__proto__/actions/echo", action("toString")]);
      return { what: `an unknown name: ${path}`, path, contentType: JSON_TYPE, body: `{"key":${k},"args":[1]}`, verdict: "reject", status: 404 };
    }
  }
}

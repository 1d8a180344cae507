/**
 * Headers of the HTTP action endpoint (`POST /actors/:name/actions/:action`, server/http/):
 * connection params and the actor key travel in them or in the body, never in the URL.
 */
export const HttpHeader = {
  /** The connection params, as JSON. */
  params: "x-tandem-params",
  /** The actor key, as JSON. */
  key: "x-tandem-key",
} as const;

/**
 * How a node tells its peers that a request is forwarded: `x-tandem-peer` carries the
 * cluster secret (driver `ownership.secret()`, shared through Redis), and
 * `x-tandem-forwarded-for` the address of the client the request came from. A request with
 * the right secret is served here and never forwarded again, and its client address is the
 * forwarded one (what onAuth sees and what per-address limits count). Without the secret
 * both headers are ignored: a client cannot claim another address.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export const PeerHeader = {
  secret: "x-tandem-peer",
  forwardedFor: "x-tandem-forwarded-for",
  /** The forwarding node's id (trusted with the secret only): where the actor's clients are. */
  node: "x-tandem-peer-node",
} as const;

/** Headers never copied from a client's request to the owner's (hop-by-hop, the WebSocket handshake's, the peer's own). */
const NOT_FORWARDED = new Set([
  "host",
  "connection",
  "upgrade",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "te",
  "trailer",
  "proxy-connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  "sec-websocket-accept",
  PeerHeader.secret,
  PeerHeader.forwardedFor,
  PeerHeader.node,
]);

/** The client's headers as the owner should see them, plus the peer's proof and the client's address. */
export function forwardedHeaders(headers: Iterable<[string, string]>, secret: string, clientAddress: string, nodeId?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (NOT_FORWARDED.has(lower)) continue;
    out[lower] = value;
  }
  out[PeerHeader.secret] = secret;
  out[PeerHeader.forwardedFor] = clientAddress;
  if (nodeId !== undefined) out[PeerHeader.node] = nodeId;
  return out;
}

/** Whether `headers` prove a peer node sent the request (constant-time comparison of the secret). */
export function isPeerRequest(headers: IncomingHttpHeaders, secret: string | null): boolean {
  if (secret === null) return false;
  const claimed = headers[PeerHeader.secret];
  if (typeof claimed !== "string") return false;
  const a = Buffer.from(claimed);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The client address a peer forwarded, or `fallback` (the socket's own) when absent or malformed. */
export function forwardedAddress(headers: IncomingHttpHeaders, fallback: string): string {
  const value = headers[PeerHeader.forwardedFor];
  return typeof value === "string" && value.length > 0 && value.length <= 64 ? value : fallback;
}

/** The node id a peer's request names (null when absent or malformed). */
export function forwardingNode(headers: IncomingHttpHeaders): string | null {
  const value = headers[PeerHeader.node];
  return typeof value === "string" && value.length > 0 && value.length <= 200 ? value : null;
}

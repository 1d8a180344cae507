/**
 * Inline calls (`server.client`, `c.client()`) for an actor another node owns. The calling
 * node sends the call to the owner's peer endpoint (`POST /_tandem/peer/call`, only for
 * peers: the cluster secret in `x-tandem-peer`, anything else gets 404), encoded with the
 * wire's value codec (so Uint8Array and the other plain values travel as they do in frames);
 * the owner runs it as trusted inline code with the caller's auth, params and call chain
 * (a call that would wait for itself is refused there as on one node) and answers with the
 * result or the caller's error.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import type { FastifyInstance } from "fastify";
import { ActorStopped, InvalidArguments, type TandemError, type WireError, errorFromWire, toWireError } from "../../shared/errors.ts";
import { readValue, writeValue } from "../../shared/protocol/value.ts";
import type { NodeAddress } from "../drivers/driver.ts";
import type { ActorRuntime, LoadMode } from "../runtime/actor-runtime.ts";
import type { CallChain } from "../runtime/call-chain.ts";
import { systemConn } from "../runtime/connection.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { PeerHeader, isPeerRequest } from "./peer-request.ts";

export const PEER_CALL_PATH = "/_tandem/peer/call";

/** One inline operation, as the calling node sends it. */
export interface PeerCall {
  readonly op: "call" | "resolve";
  readonly name: string;
  readonly key?: unknown;
  readonly id?: unknown;
  readonly mode: LoadMode;
  readonly action?: string;
  readonly args?: readonly unknown[];
  readonly auth?: unknown;
  readonly params?: unknown;
  readonly chain: CallChain;
}

type PeerAnswer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireError };

function encode(value: unknown): Uint8Array {
  const encoder = encoding.createEncoder();
  writeValue(encoder, value);
  return encoding.toUint8Array(encoder);
}

function decode(bytes: Uint8Array): unknown {
  const decoder = decoding.createDecoder(bytes);
  const value = readValue(decoder);
  if (decoder.pos !== bytes.length) throw new InvalidArguments("Trailing bytes after a peer call");
  return value;
}

/** Sends `call` to the owner; resolves with the result or rejects with the error the caller would see. */
export async function callPeer(cluster: ClusterNode, owner: NodeAddress, call: PeerCall, timeoutMs: number): Promise<unknown> {
  const secret = cluster.secret;
  if (secret === null || cluster.isUnreachable(owner.nodeId)) throw new ActorStopped(`The actor's node (${owner.nodeId}) cannot be reached now; retry`);
  let response: Response;
  try {
    response = await fetch(`${owner.url.replace(/\/$/, "")}${PEER_CALL_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", [PeerHeader.secret]: secret },
      body: Buffer.from(encode(call)),
      signal: timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined,
    });
  } catch (error) {
    cluster.markUnreachable(owner.nodeId);
    throw new ActorStopped(`The actor's node (${owner.nodeId}) cannot be reached now; retry`, { cause: error });
  }
  if (response.status !== 200) throw new ActorStopped(`The actor's node (${owner.nodeId}) refused a peer call (HTTP ${response.status}); retry`);
  const answer = decode(new Uint8Array(await response.arrayBuffer())) as PeerAnswer;
  if (answer.ok) return answer.value;
  throw errorFromWire(answer.error) satisfies TandemError;
}

/** The owner's side: the peer endpoint (registered in an encapsulated scope for its binary body). */
export function registerPeerCallRoute(app: FastifyInstance, runtime: ActorRuntime, cluster: ClusterNode): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
    scope.post(PEER_CALL_PATH, async (request, reply) => {
      if (!isPeerRequest(request.headers, cluster.secret) || !(request.body instanceof Uint8Array)) return reply.code(404).send();
      let answer: PeerAnswer;
      try {
        answer = { ok: true, value: await serve(runtime, decode(request.body) as PeerCall) };
      } catch (error) {
        answer = { ok: false, error: toWireError(runtime.callerError(error, { peerCall: true })) };
      }
      return reply.header("content-type", "application/octet-stream").send(Buffer.from(encode(answer)));
    });
  });
}

async function serve(runtime: ActorRuntime, call: PeerCall): Promise<unknown> {
  if (typeof call !== "object" || call === null || typeof call.name !== "string" || !Array.isArray(call.chain)) throw new InvalidArguments("Malformed peer call");
  const instance = call.id !== undefined ? await runtime.resolveById(call.name, call.id, call.chain) : await runtime.resolve(call.name, call.key, call.mode, call.chain);
  if (call.op === "resolve") return instance.id;
  if (typeof call.action !== "string" || !Array.isArray(call.args)) throw new InvalidArguments("Malformed peer call");
  return instance.action(call.action, [...call.args], systemConn("inline", call.auth, call.params), undefined, call.chain);
}

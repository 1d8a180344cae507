/**
 * Stateless calls over HTTP: one action, or resolving an actor's id. JSON in and out; the
 * params travel in the `x-tandem-params` header, the key in the body, never in the URL.
 */
import { InternalError, type WireError, errorFromWire } from "../shared/errors.ts";
import { HttpHeader } from "../shared/protocol/http-headers.ts";

export interface HttpTarget {
  readonly name: string;
  readonly key?: readonly string[];
  readonly id?: string;
  readonly mode: "get" | "getOrCreate" | "create";
  readonly input?: unknown;
  readonly params?: unknown;
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{ status: number; json(): Promise<unknown> }>;

export class HttpCaller {
  /** The server's URL without its trailing slash, computed once rather than per call. */
  private readonly base: string;
  private readonly fetcher: FetchLike;

  constructor(
    baseUrl: string,
    fetcher: FetchLike,
  ) {
    // Called as a plain function, never as `this.fetcher(...)`: a platform fetch passed in
    // the options (`fetch: window.fetch`) throws "Illegal invocation" with any other receiver.
    this.fetcher = (url, init) => fetcher.call(undefined, url, init);
    this.base = baseUrl.replace(/\/$/, "");
  }

  action(target: HttpTarget, action: string, args: readonly unknown[]): Promise<unknown> {
    return this.post(`/actors/${encodeURIComponent(target.name)}/actions/${encodeURIComponent(action)}`, target, { args }).then(
      (body) => (body as { result: unknown }).result,
    );
  }

  async resolve(target: HttpTarget): Promise<string> {
    const body = await this.post(`/actors/${encodeURIComponent(target.name)}/resolve`, target, {});
    return (body as { id: string }).id;
  }

  private async post(path: string, target: HttpTarget, extra: Record<string, unknown>): Promise<unknown> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (target.params !== undefined) headers[HttpHeader.params] = JSON.stringify(target.params);
    const payload: Record<string, unknown> = { ...extra, mode: target.mode };
    if (target.id !== undefined) payload.id = target.id;
    else payload.key = target.key ?? [];
    if (target.input !== undefined) payload.input = target.input;
    const response = await this.fetcher(`${this.base}${path}`, { method: "POST", headers, body: JSON.stringify(payload) });
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new InternalError(`The server answered ${response.status} without JSON`);
    }
    if (response.status >= 400 || (typeof body === "object" && body !== null && "error" in body)) {
      const wire = (body as { error?: WireError }).error;
      throw wire ? errorFromWire(wire) : new InternalError(`The server answered ${response.status}`);
    }
    return body;
  }
}

/**
 * The size of connection params as held in memory, estimated without recursion: string
 * lengths (keys included), 8 per number and a few per other value. Params live as long as
 * their channel (`c.conn.params`, and whatever onAuth builds from them), so a channel may not
 * pin a frame's worth of them (`maxParamsBytes`).
 */
import { MessageTooLarge } from "../../shared/errors.ts";

/** Params a channel would hold for its life may not exceed `limit` (`maxParamsBytes`). */
export function checkParamsSize(params: unknown, limit: number): void {
  if (paramsSize(params) > limit) throw new MessageTooLarge(`Connection params are limited to ${limit} bytes`);
}

export function paramsSize(params: unknown): number {
  let size = 0;
  const stack: unknown[] = [params];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === "string") size += value.length;
    else if (value instanceof Uint8Array) size += value.byteLength;
    else if (Array.isArray(value)) {
      size += 2;
      for (const item of value) stack.push(item);
    } else if (typeof value === "object" && value !== null) {
      size += 2;
      for (const [key, item] of Object.entries(value)) {
        size += key.length;
        stack.push(item);
      }
    } else size += 8;
  }
  return size;
}

/**
 * The inspector's door: `Authorization: Bearer <token>`, compared in constant time (digests
 * of both, so neither the length nor a prefix of the token leaks through timing). Missing or
 * not a bearer token: 401 unauthorized; a wrong token: 403 forbidden.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Forbidden, Unauthorized } from "../../shared/errors.ts";

export class BearerCheck {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = sha256(token);
  }

  /** Throws Unauthorized or Forbidden unless the header carries the token. */
  check(header: string | string[] | undefined): void {
    if (typeof header !== "string") throw new Unauthorized("The inspector needs Authorization: Bearer <token>");
    const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
    if (match === null) throw new Unauthorized("The inspector needs Authorization: Bearer <token>");
    if (!timingSafeEqual(sha256(match[1]!), this.digest)) throw new Forbidden("Wrong inspector token");
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

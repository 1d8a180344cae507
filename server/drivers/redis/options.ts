/**
 * The Redis driver's option types that its public declarations name. Nothing here imports
 * ioredis: an app that never makes a Redis driver type-checks without it installed.
 */
export interface ConnectionLogger {
  warn(obj: object, msg?: string): void;
}

export interface RedisDurability {
  /** Replicas that must acknowledge each write (WAIT) before an append resolves. */
  readonly waitReplicas: number;
  /** How long WAIT waits for them (ms). Default 1000. */
  readonly waitTimeoutMs?: number;
}

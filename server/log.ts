/**
 * The server's logger: pino's interface (fastify's logger fits as it is). The default logs
 * warnings and errors to stderr as JSON lines; `logger: false` silences it.
 */
import type { Logger } from "../shared/context.ts";

export interface ServerLogger extends Logger {
  child(bindings: Record<string, unknown>): ServerLogger;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
export type LogLevel = keyof typeof LEVELS;

export function consoleLogger(level: LogLevel = "warn", bindings: Record<string, unknown> = {}): ServerLogger {
  const min = LEVELS[level];
  const write = (lvl: LogLevel) => (obj: unknown, msg?: string) => {
    if (LEVELS[lvl] < min) return;
    const fields = obj instanceof Error ? { err: { message: obj.message, stack: obj.stack } } : typeof obj === "object" && obj !== null ? obj : { msg: obj };
    process.stderr.write(`${JSON.stringify({ level: lvl, time: Date.now(), ...bindings, ...fields, ...(msg ? { msg } : {}) }, errorReplacer)}\n`);
  };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (more) => consoleLogger(level, { ...bindings, ...more }),
  };
}

export function silentLogger(): ServerLogger {
  const noop = () => {};
  const logger: ServerLogger = { debug: noop, info: noop, warn: noop, error: noop, child: () => logger };
  return logger;
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

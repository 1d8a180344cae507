/**
 * The server's logger: pino's interface. By default it is fastify's own pino logger, so
 * requests and actors log through one place; `logger: false` silences both.
 */
import type { Logger } from "../shared/context.ts";

export interface ServerLogger extends Logger {
  child(bindings: Record<string, unknown>): ServerLogger;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

const LEVELS: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** A pino-shaped logger writing JSON lines to stderr, for code running without a server. */
export function consoleLogger(level: LogLevel = "warn", bindings: Record<string, unknown> = {}): ServerLogger {
  const min = LEVELS[level];
  const write = (lvl: LogLevel) => (obj: unknown, msg?: string) => {
    if (LEVELS[lvl] < min) return;
    const fields = obj instanceof Error ? { err: { message: obj.message, stack: obj.stack } } : typeof obj === "object" && obj !== null ? obj : { msg: obj };
    process.stderr.write(`${JSON.stringify({ level: lvl, time: Date.now(), ...bindings, ...fields, ...(msg ? { msg } : {}) })}\n`);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error"), child: (more) => consoleLogger(level, { ...bindings, ...more }) };
}

/** A logger that drops everything. */
export function silentLogger(): ServerLogger {
  const noop = () => {};
  const logger: ServerLogger = { debug: noop, info: noop, warn: noop, error: noop, child: () => logger };
  return logger;
}

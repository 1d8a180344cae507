/**
 * Payload types by event name, on its own so that the context types (context.ts) and the
 * client types (client-types.ts) name it without importing the actor definition (actor.ts),
 * which imports them.
 */
/** Payload types by event name. Actors that declare no events may emit any name. */
export type EventMap = Record<string, unknown>;

/**
 * The two windows of exactly-once delivery (PROTOCOL.md "Windows"), defined together because
 * each is sized against the other.
 *
 * - MAX_IN_FLIGHT: a client sends at most this many actions of one channel unanswered
 *   (client/outbox.ts). After a reconnect it resends them all, with their seqs.
 * - RESULT_WINDOW: the server keeps the results of the last this-many seqs of each client of
 *   an actor (server/runtime/exactly-once.ts) to answer a resend without running the action again.
 *
 * MAX_IN_FLIGHT < RESULT_WINDOW: every action a client may resend still has its result kept
 * (unless it is too large, `result_not_kept`), with a margin for a seq the server applied
 * while its ack was lost.
 */

/** Actions sent and not yet answered, per channel. */
export const MAX_IN_FLIGHT = 120;

/** Results kept per client (seq mod RESULT_WINDOW is the slot a result is stored under). */
export const RESULT_WINDOW = 128;

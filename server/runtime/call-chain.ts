/**
 * Call chains: which actors an actor-to-actor call (`c.client()`) comes from, so that a call
 * that would wait for itself (A → A, A → B → A) is refused at once instead of deadlocking
 * in a mailbox.
 *
 * The chain travels as an argument: a task knows its chain, `c.client()` gives the inline
 * client made for that chain (server/inline-client.ts), which passes it to every
 * `runtime.resolve`, `instance.action` and `instance.connect`, and the tasks those start
 * carry it with their own actor added. (An AsyncLocalStorage would do the same implicitly,
 * but it turns on promise hooks for every promise of the process: a cost paid by every action.)
 */

/** Actor ids, outermost first. */
export type CallChain = readonly string[];

export const NO_CHAIN: CallChain = Object.freeze([]);

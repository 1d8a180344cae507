/**
 * Protocol versions. The hello carries the client's version; a server refuses clients older
 * than MIN_PROTOCOL_VERSION with `upgrade_required`.
 *
 * History:
 * - 1: first version (hello/welcome, subscribe, sync, action/ack, edit, event, awareness, error).
 * - 2: the client reads `batch` (several frames in one message); the server sends batches
 *   only to clients of version 2 or more, so version 1 clients are served as before.
 */
export const PROTOCOL_VERSION = 2;
/** The first version whose clients read batch frames. */
export const BATCH_PROTOCOL_VERSION = 2;
export const MIN_PROTOCOL_VERSION = 1;

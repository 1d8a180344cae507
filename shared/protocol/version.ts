/**
 * Protocol versions. The hello carries the client's version; a server refuses clients older
 * than MIN_PROTOCOL_VERSION with `upgrade_required`.
 *
 * History:
 * - 1: first version (hello/welcome, subscribe, sync, action/ack, edit, event, awareness, error).
 * - 2: the client reads `batch` (several frames in one message); the server sends batches
 *   only to clients of version 2 or more, so version 1 clients are served as before.
 * - 3: heartbeat: the client may send `ping` (kind 15), the server answers `pong` (16). A
 *   client sends pings only to a server whose welcome says version 3 or more; a server
 *   answers the pings of any client.
 * - 4: `auth` (kind 17) / `authResult` (18): a channel's params change without
 *   resubscribing (token refresh). Older clients never send it; a client sends it only to
 *   servers of version 4.
 */
export const PROTOCOL_VERSION = 4;
/** The first version whose servers take auth frames. */
export const LIVE_AUTH_PROTOCOL_VERSION = 4;
/** The first version whose clients read batch frames. */
export const BATCH_PROTOCOL_VERSION = 2;
/** The first version whose servers answer ping frames (the client's heartbeat). */
export const HEARTBEAT_PROTOCOL_VERSION = 3;
export const MIN_PROTOCOL_VERSION = 1;

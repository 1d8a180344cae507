/**
 * Protocol versions. The hello carries the client's version; a server refuses clients older
 * than MIN_PROTOCOL_VERSION with `upgrade_required`.
 *
 * History:
 * - 1: first version (hello/welcome, subscribe, sync, action/ack, edit, event, awareness, error).
 */
export const PROTOCOL_VERSION = 1;
export const MIN_PROTOCOL_VERSION = 1;

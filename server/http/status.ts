/** HTTP status codes for error codes: one table, used by every route. */
const STATUS: Record<string, number> = {
  unauthorized: 401,
  forbidden: 403,
  actor_not_found: 404,
  action_not_found: 404,
  actor_already_exists: 409,
  invalid_arguments: 400,
  invalid_state: 400,
  malformed_frame: 400,
  message_too_large: 413,
  rate_limited: 429,
  upgrade_required: 426,
  actor_stopped: 503,
  internal_error: 500,
};

export function statusFor(code: string, group: string): number {
  return STATUS[code] ?? (group === "user" ? 400 : 500);
}

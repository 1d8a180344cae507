/**
 * The Lua scripts of the Redis driver: each runs atomically inside Redis. Every write
 * (create, append, compact) and every load starts with the fencing check `FENCE`: the
 * actor's lease must exist and carry exactly the caller's token — checked by Redis, at the
 * moment the write runs, so an owner that was paused past its lease is refused there
 * whatever its own clock believes. A refusal increments the refusals counter.
 *
 * Writes of one lease are also numbered (ARGV[2] = 1, 2, 3, … in call order; 0 for a
 * load): a write runs only if the one before it ran (the lease's `w` field), so a write
 * that never reached the script (a dropped connection, a Redis error) can never be
 * followed by a later one of the same lease — the lease is marked broken (`w` = -1) and
 * refuses every later write: no gap in an actor's log.
 *
 * Alarm arguments: "" leaves the actor's alarm as it is, "-" removes it, a number sets it.
 */

/**
 * KEYS[1] lease, KEYS[2] refusals; ARGV[1] token, ARGV[2] write number (0: a read), ARGV[3]
 * node id. The node id is checked too: should Redis ever hand a token out twice (a counter
 * rolled back by a crash without appendfsync always, or a failover to a replica that missed
 * it), two nodes holding the same number still cannot both write.
 */
const FENCE = `
local held = redis.call('HMGET', KEYS[1], 't', 'w', 'n')
if held[1] ~= ARGV[1] or held[3] ~= ARGV[3] then
  redis.call('INCR', KEYS[2])
  return {'stale', held[1] or '0'}
end
local w = tonumber(ARGV[2])
if w ~= 0 then
  if tonumber(held[2]) ~= w - 1 then
    redis.call('HSET', KEYS[1], 'w', -1)
    return {'gap', held[2]}
  end
  redis.call('HSET', KEYS[1], 'w', w)
end
local function setAlarm(key, id, at)
  if at == '-' then
    redis.call('ZREM', key, id)
  elseif at ~= '' then
    redis.call('ZADD', key, at, id)
  end
end
`;

export const SCRIPTS = {
  /** KEYS lease, token counter; ARGV nodeId, leaseMs → {1, token} | {0, holder}. */
  acquire: `
local holder = redis.call('HGET', KEYS[1], 'n')
if holder and holder ~= ARGV[1] then return {0, holder} end
local token = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 't', token, 'n', ARGV[1], 'w', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, token}
`,
  /** KEYS lease; ARGV token, node: deletes the lease only while it is still that one. */
  release: `
local held = redis.call('HMGET', KEYS[1], 't', 'n')
if held[1] == ARGV[1] and held[2] == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 1
`,
  /** KEYS lease, refusals, meta, log, snap, alarms; ARGV token, w, node, id, meta, commit, alarm. */
  create: `${FENCE}
if redis.call('EXISTS', KEYS[3]) == 1 then return {'exists'} end
redis.call('DEL', KEYS[4], KEYS[5])
redis.call('SET', KEYS[3], ARGV[5])
redis.call('RPUSH', KEYS[4], ARGV[6])
setAlarm(KEYS[6], ARGV[4], ARGV[7])
return {'ok'}
`,
  /** KEYS lease, refusals, meta, log, alarms; ARGV token, w, node, id, commit, alarm. */
  append: `${FENCE}
if redis.call('EXISTS', KEYS[3]) == 0 then return {'missing'} end
redis.call('RPUSH', KEYS[4], ARGV[5])
setAlarm(KEYS[5], ARGV[4], ARGV[6])
return {'ok'}
`,
  /** KEYS lease, refusals, meta, log, snap, alarms; ARGV token, w, node, id, snapshot, alarm. */
  compact: `${FENCE}
if redis.call('EXISTS', KEYS[3]) == 0 then return {'missing'} end
redis.call('SET', KEYS[5], ARGV[5])
redis.call('DEL', KEYS[4])
setAlarm(KEYS[6], ARGV[4], ARGV[6])
return {'ok'}
`,
  /** KEYS lease, refusals, meta, snap, log; ARGV token, 0, node → {'ok', meta, snapshot or '', commit…} | {'missing'}. */
  load: `${FENCE}
local meta = redis.call('GET', KEYS[3])
if not meta then return {'missing'} end
local out = {'ok', meta, redis.call('GET', KEYS[4]) or ''}
for _, record in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do out[#out + 1] = record end
return out
`,
  /**
   * KEYS node, lease…; ARGV nodeId, leaseMs, nodeTtlMs, url ("" = none yet), token… →
   * the (1-based) positions of the leases this node no longer holds.
   */
  renew: `
if ARGV[4] ~= '' then redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[3]) end
local lost = {}
for i = 2, #KEYS do
  local held = redis.call('HMGET', KEYS[i], 't', 'n')
  if held[1] == ARGV[i + 3] and held[2] == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
  else
    lost[#lost + 1] = i - 1
  end
end
return lost
`,
  /** KEYS lease; ARGV node key prefix → nil | {nodeId} | {nodeId, url}. */
  owner: `
local node = redis.call('HGET', KEYS[1], 'n')
if not node then return false end
local url = redis.call('GET', ARGV[1] .. node)
if not url then return {node} end
return {node, url}
`,
  /** KEYS alarms; ARGV meta key prefix, until ("+inf": all) → {id, at, meta}…, earliest first. */
  alarms: `
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'WITHSCORES')
local out = {}
for i = 1, #entries, 2 do
  local meta = redis.call('GET', ARGV[1] .. entries[i])
  if meta then
    out[#out + 1] = entries[i]
    out[#out + 1] = entries[i + 1]
    out[#out + 1] = meta
  end
end
return out
`,
  /** KEYS secret; ARGV candidate → the cluster's secret (the candidate if none was set). */
  secret: `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
`,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

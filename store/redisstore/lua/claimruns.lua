-- claimruns.lua starts pending runs. ARGV[4] node, ARGV[5] now (text: the
-- runs' Started), ARGV[6] horizon (µs), then pairs of pool and limit.
-- Per pool it takes due runs oldest first (ties: first inserted first;
-- the pending index's members are an insertion number and the run ID),
-- skipping (and leaving
-- pending) those whose job already has its MaxInstances running
-- cluster-wide (1 for a removed job); each started run gets the next
-- fencing token of its job. Returns the started runs' recs.
local node, started, horizon = ARGV[4], ARGV[5], ARGV[6]
local slots = {}
local function slot(job)
  local s = slots[job]
  if not s then
    local inst = redis.call('HGET', P .. 'job:' .. job, 'inst')
    s = {running = redis.call('ZCARD', P .. 'running:' .. job), max = tonumber(inst or '1')}
    slots[job] = s
  end
  return s
end
local out = {}
for a = 7, #ARGV, 2 do
  local pk, limit = P .. 'pending:' .. ARGV[a], tonumber(ARGV[a + 1])
  local skipped, taken = 0, 0
  while taken < limit do
    local page = redis.call('ZRANGEBYSCORE', pk, '-inf', horizon, 'LIMIT', skipped, 256)
    for _, member in ipairs(page) do
      if taken >= limit then break end
      local id = string.sub(member, 18)
      local rk = P .. 'run:' .. id
      local job = redis.call('HGET', rk, 'job')
      if not job then
        redis.call('ZREM', pk, member)
      elseif slot(job).running >= slot(job).max then
        skipped = skipped + 1
      else
        local fence = num(redis.call('INCR', P .. 'fence:' .. job))
        redis.call('HSET', rk, 'state', '2', 'node', node, 'started', started, 'fence', fence)
        redis.call('ZREM', pk, member)
        redis.call('ZREM', P .. 'pendjob:' .. job, id)
        restate(id, '1', '2')
        redis.call('ZADD', P .. 'running:' .. job, fence, id)
        redis.call('SADD', P .. 'noderuns:' .. node, id)
        slots[job].running = slots[job].running + 1
        taken = taken + 1
        out[#out + 1] = rec(id)
      end
    end
    if #page < 256 then break end
  end
end
return out

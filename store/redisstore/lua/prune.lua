-- prune.lua deletes finished runs, a bounded number per call. ARGV[4]
-- 'keep': beyond the ARGV[5] most recently finished of each job, for the
-- jobs an SSCAN of the jobs with history from cursor ARGV[6] returns;
-- returns {deleted, next cursor}. ARGV[4] 'age': up to ARGV[6] runs that
-- finished before ARGV[5] (µs); returns {deleted}.
local function delete(id)
  local rk = P .. 'run:' .. id
  local r = redis.call('HMGET', rk, 'job', 'key', 'state')
  if r[1] then
    if redis.call('HGET', P .. 'fire:' .. r[1], r[2]) == id then
      redis.call('HDEL', P .. 'fire:' .. r[1], r[2])
    end
    redis.call('ZREM', P .. 'hist:' .. r[1], id)
    redis.call('ZREM', P .. 'done:' .. r[1], id)
    redis.call('ZREM', P .. 'state:' .. r[3], id)
  end
  redis.call('ZREM', P .. 'runs', id)
  redis.call('ZREM', P .. 'finished', id)
  redis.call('DEL', rk)
end
local n = 0
if ARGV[4] == 'keep' then
  local keep = tonumber(ARGV[5])
  local scan = redis.call('SSCAN', P .. 'donejobs', ARGV[6], 'COUNT', 100)
  for _, job in ipairs(scan[2]) do
    local dk = P .. 'done:' .. job
    local total = redis.call('ZCARD', dk)
    if total > keep then
      for _, id in ipairs(redis.call('ZRANGE', dk, 0, total - keep - 1)) do
        delete(id)
        n = n + 1
      end
    end
    if redis.call('ZCARD', dk) == 0 then redis.call('SREM', P .. 'donejobs', job) end
  end
  return {n, scan[1]}
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'finished', '-inf', '(' .. ARGV[5], 'LIMIT', 0, ARGV[6])) do
  delete(id)
  n = n + 1
end
return {n}

-- claimjobs.lua leases due jobs. ARGV[4] node, ARGV[5] now (µs), ARGV[6]
-- horizon (µs), ARGV[7] the lease's end (µs), ARGV[8] limit. Claims that
-- expired by the earlier of now and Redis's TIME are released first.
-- Returns {token, then per job: spec, next, pending count, earliest
-- pending due (µs or ''), running runs (a list of recs), for each of
-- those its node's last heartbeat {seen, started} (text; '' for a node
-- without one), and when a claim on the job lapsed uncommitted (µs or
-- '')}; {0} when nothing is due. A lapse is kept until a commit.
local t = clock(tonumber(ARGV[5]))
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'claims', '-inf', num(t))) do
  local jk = P .. 'job:' .. id
  redis.call('HSET', jk, 'lapsed', redis.call('HGET', jk, 'cuntil') or '')
  redis.call('HDEL', jk, 'ctoken', 'cnode', 'cuntil')
  redis.call('ZREM', P .. 'claims', id)
  local j = redis.call('HMGET', jk, 'paused', 'next', 'nextus')
  if j[1] == '0' and j[2] and j[2] ~= '' then redis.call('ZADD', P .. 'due', j[3], id) end
end
local ids = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', ARGV[6], 'LIMIT', 0, ARGV[8])
if #ids == 0 then return {0} end
local token = num(redis.call('INCR', P .. 'claimseq'))
local out = {token}
for _, id in ipairs(ids) do
  local jk = P .. 'job:' .. id
  redis.call('ZREM', P .. 'due', id)
  redis.call('HSET', jk, 'ctoken', token, 'cnode', ARGV[4], 'cuntil', ARGV[7])
  redis.call('ZADD', P .. 'claims', ARGV[7], id)
  local j = redis.call('HMGET', jk, 'spec', 'next', 'lapsed')
  local first = redis.call('ZRANGE', P .. 'pendjob:' .. id, 0, 0, 'WITHSCORES')
  local running, beats = {}, {}
  for _, rid in ipairs(redis.call('ZRANGE', P .. 'running:' .. id, 0, -1)) do
    running[#running + 1] = rec(rid)
    local node = redis.call('HGET', P .. 'run:' .. rid, 'node')
    local beat = redis.call('HMGET', P .. 'node:' .. (node or ''), 'seen', 'started')
    beats[#beats + 1] = {beat[1] or '', beat[2] or ''}
  end
  out[#out + 1] = {j[1], j[2], redis.call('ZCARD', P .. 'pendjob:' .. id), first[2] or '', running, beats, j[3] or ''}
end
return out

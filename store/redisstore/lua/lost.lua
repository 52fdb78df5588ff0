-- lost.lua finds the nodes whose heartbeat expired by the earlier of
-- ARGV[4] (µs) and Redis's TIME. Returns per node {ID, its running runs
-- as {job, rec}...}. It forgets the runs of a node's set that are not
-- running on it (their record was lost, or written back finished).
local t = clock(tonumber(ARGV[4]))
local out = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', num(t), 'LIMIT', 0, 100)) do
  local runs = {}
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'noderuns:' .. node)) do
    local r = redis.call('HMGET', P .. 'run:' .. id, 'job', 'state', 'node')
    if r[2] == '2' and r[3] == node then
      runs[#runs + 1] = {r[1], rec(id)}
    else -- a run whose record was lost (or written back): nothing to interrupt
      redis.call('SREM', P .. 'noderuns:' .. node, id)
    end
  end
  out[#out + 1] = {node, runs}
end
return out

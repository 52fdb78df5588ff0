-- lost.lua finds the nodes whose heartbeat expired by the earlier of
-- ARGV[4] (µs) and Redis's TIME. Returns per node {ID, its running runs
-- as {job, rec}...}. It forgets the runs whose record is gone.
local t = clock(tonumber(ARGV[4]))
local out = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', num(t), 'LIMIT', 0, 100)) do
  local runs = {}
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'noderuns:' .. node)) do
    local job = redis.call('HGET', P .. 'run:' .. id, 'job')
    if job then
      runs[#runs + 1] = {job, rec(id)}
    else -- a run whose record was lost: nothing to interrupt
      redis.call('SREM', P .. 'noderuns:' .. node, id)
    end
  end
  out[#out + 1] = {node, runs}
end
return out

-- putjob.lua writes jobs whole, releasing any claim on them, if each one's
-- stored version is as expected ('': no such job); else it writes none.
-- ARGV[4] is the number of jobs, then per job: ID, expected version,
-- spec, next (text), next (µs), paused ('0' or '1'), task, instances,
-- version, tags (a JSON array). Returns {'ok', notices} or {'changed',
-- the first job changed (1-based)}.
local JOBF = 10
local n = tonumber(ARGV[4])
for k = 1, n do
  local i = 5 + (k - 1) * JOBF
  local cur = redis.call('HGET', P .. 'job:' .. ARGV[i], 'version')
  if (ARGV[i + 1] == '' and cur) or (ARGV[i + 1] ~= '' and cur ~= ARGV[i + 1]) then
    return {'changed', k}
  end
end
for k = 1, n do
  local i = 5 + (k - 1) * JOBF
  local id, next, nextus, paused, task = ARGV[i], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local jk = P .. 'job:' .. id
  local cur = redis.call('HMGET', jk, 'task', 'tags')
  if cur[1] then redis.call('ZREM', P .. 'task:' .. cur[1], id) end
  if cur[2] then
    for _, t in ipairs(cjson.decode(cur[2])) do redis.call('ZREM', P .. 'tag:' .. t, id) end
  end
  redis.call('DEL', jk)
  redis.call('ZREM', P .. 'claims', id)
  redis.call('HSET', jk, 'spec', ARGV[i + 2], 'next', next, 'nextus', nextus, 'paused', paused,
    'task', task, 'inst', ARGV[i + 7], 'version', ARGV[i + 8], 'tags', ARGV[i + 9])
  redis.call('ZADD', P .. 'jobs', 0, id)
  redis.call('ZADD', P .. 'task:' .. task, 0, id)
  for _, t in ipairs(cjson.decode(ARGV[i + 9])) do redis.call('ZADD', P .. 'tag:' .. t, 0, id) end
  if paused == '0' and next ~= '' then
    redis.call('ZADD', P .. 'due', nextus, id)
  else
    redis.call('ZREM', P .. 'due', id)
  end
  notice(1, id, next)
end
return {'ok', publish()}

-- putjob.lua writes a job whole, releasing any claim on it, if the stored
-- version is ARGV[5] ('' : only if there is no such job). ARGV[4] is the
-- ID; then spec, next (text), next (µs), paused ('0' or '1'), task,
-- instances, version, tags (a JSON array). Returns {'ok', notices} or
-- {'changed', stored version}.
local id, expect = ARGV[4], ARGV[5]
local next, nextus, paused, task = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local jk = P .. 'job:' .. id
local cur = redis.call('HMGET', jk, 'version', 'task', 'tags')
if (expect == '' and cur[1]) or (expect ~= '' and cur[1] ~= expect) then
  return {'changed', cur[1] or ''}
end
if cur[2] then redis.call('ZREM', P .. 'task:' .. cur[2], id) end
if cur[3] then
  for _, t in ipairs(cjson.decode(cur[3])) do redis.call('ZREM', P .. 'tag:' .. t, id) end
end
redis.call('DEL', jk)
redis.call('ZREM', P .. 'claims', id)
redis.call('HSET', jk, 'spec', ARGV[6], 'next', next, 'nextus', nextus, 'paused', paused,
  'task', task, 'inst', ARGV[11], 'version', ARGV[12], 'tags', ARGV[13])
redis.call('ZADD', P .. 'jobs', 0, id)
redis.call('ZADD', P .. 'task:' .. task, 0, id)
for _, t in ipairs(cjson.decode(ARGV[13])) do redis.call('ZADD', P .. 'tag:' .. t, 0, id) end
if paused == '0' and next ~= '' then
  redis.call('ZADD', P .. 'due', nextus, id)
else
  redis.call('ZREM', P .. 'due', id)
end
notice(1, id, next)
return {'ok', publish()}

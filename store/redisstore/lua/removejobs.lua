-- removejobs.lua deletes jobs (their runs stay): the one named ARGV[5]
-- when ARGV[4] is 'one', else up to ARGV[5] of all jobs. Returns {count,
-- notices}.
local function remove(id)
  local jk = P .. 'job:' .. id
  local cur = redis.call('HMGET', jk, 'task', 'tags')
  if cur[1] then redis.call('ZREM', P .. 'task:' .. cur[1], id) end
  if cur[2] then
    for _, t in ipairs(cjson.decode(cur[2])) do redis.call('ZREM', P .. 'tag:' .. t, id) end
  end
  redis.call('ZREM', P .. 'jobs', id)
  redis.call('ZREM', P .. 'due', id)
  redis.call('ZREM', P .. 'claims', id)
  return redis.call('DEL', jk)
end
local n = 0
if ARGV[4] == 'one' then
  n = remove(ARGV[5])
  if n > 0 then notice(1, ARGV[5]) end
else
  for _, id in ipairs(redis.call('ZRANGE', P .. 'jobs', 0, tonumber(ARGV[5]) - 1)) do
    n = n + remove(id)
  end
  if n > 0 then notice(1, '') end
end
return {n, publish()}

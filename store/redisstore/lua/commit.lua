-- commit.lua applies the schedule loop's decisions, each job on its own:
-- a commit whose token still holds its job's claim sets the next fire,
-- releases the claim, inserts the runs (dropping those whose fire's key
-- exists) and requests the cancellations; any other is lost and changes
-- nothing. From ARGV[4], per commit: job ID, token, next (text), next
-- (µs), number of runs, number of cancellations, the runs (RUNF each),
-- the run IDs to cancel. Returns per commit {0} (lost) or {1, inserted
-- IDs...}, then the notices.
local out = {}
local i = 4
while i <= #ARGV do
  local id, token, next, nextus = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local nruns, ncancel = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  i = i + 6
  local jk = P .. 'job:' .. id
  if redis.call('HGET', jk, 'ctoken') ~= token then
    out[#out + 1] = {0}
    i = i + nruns * RUNF + ncancel
  else
    redis.call('HDEL', jk, 'ctoken', 'cnode', 'cuntil', 'lapsed')
    redis.call('ZREM', P .. 'claims', id)
    redis.call('HSET', jk, 'next', next, 'nextus', nextus)
    if next ~= '' and redis.call('HGET', jk, 'paused') == '0' then
      redis.call('ZADD', P .. 'due', nextus, id)
    else
      redis.call('ZREM', P .. 'due', id)
    end
    local res = {1}
    for _ = 1, nruns do
      if insert(i) then res[#res + 1] = ARGV[i] end
      i = i + RUNF
    end
    for _ = 1, ncancel do
      local rk = P .. 'run:' .. ARGV[i]
      if redis.call('HGET', rk, 'state') == '2' then redis.call('HSET', rk, 'cancel', '1') end
      i = i + 1
    end
    notice(1, id, next)
    if #res > 1 then notice(2, id) end
    out[#out + 1] = res
  end
end
out[#out + 1] = publish()
return out

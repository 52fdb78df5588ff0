-- recover.lua counts nodes lost and interrupts their runs, with the
-- retries Go planned. ARGV[4] now (µs), ARGV[5] now (text); then per
-- node: ID, number of runs, and per run: ID, '1' and a retry (RUNF
-- arguments) or '0'. A node is lost only if its heartbeat still expired
-- by the earlier of now and Redis's TIME and it runs exactly the runs
-- given (else Go looks again). Returns per node {ID, 'lost', retry IDs
-- inserted...}, {ID, 'alive'} or {ID, 'changed'}, then the notices.
local t = clock(tonumber(ARGV[4]))
local fin, finText = ARGV[4], ARGV[5]
local out = {}
local i = 6
while i <= #ARGV do
  local node, n = ARGV[i], tonumber(ARGV[i + 1])
  local first = i + 2
  local last = first
  for _ = 1, n do
    if ARGV[last + 1] == '1' then last = last + 2 + RUNF else last = last + 2 end
  end
  i = last
  local expiry = redis.call('ZSCORE', P .. 'nodes', node)
  local nk = P .. 'noderuns:' .. node
  local same = redis.call('SCARD', nk) == n
  local a = first
  while same and a < last do
    same = redis.call('SISMEMBER', nk, ARGV[a]) == 1
    if ARGV[a + 1] == '1' then a = a + 2 + RUNF else a = a + 2 end
  end
  if not expiry or tonumber(expiry) > t then
    out[#out + 1] = {node, 'alive'}
  elseif not same then
    out[#out + 1] = {node, 'changed'}
  else
    local res = {node, 'lost'}
    a = first
    while a < last do
      local id = ARGV[a]
      local job = redis.call('HGET', P .. 'run:' .. id, 'job')
      stop(id, job, node, '5', fin, {'reason', 'node lost', 'finished', finText})
      if ARGV[a + 1] == '1' then
        local r = insert(a + 2)
        if r then
          res[#res + 1] = r
          notice(2, job)
        end
        a = a + 2 + RUNF
      else
        a = a + 2
      end
    end
    redis.call('ZREM', P .. 'nodes', node)
    redis.call('DEL', P .. 'node:' .. node, nk)
    out[#out + 1] = res
  end
end
out[#out + 1] = publish()
return out

-- finish.lua records run ends, each on its own. From ARGV[4], per end:
-- run ID, node, state, finished (µs), finished, started, error, stack,
-- reason (text), then '1' and a retry to insert (RUNF arguments) or '0'.
-- An end is refused unless the run is running on node. Returns per end
-- {'ok', retry inserted (1 or 0)}, {'conflict', state, node} or
-- {'vanished'} (no record: it held a run whose record is gone), then the
-- notices.
local out = {}
local i = 4
while i <= #ARGV do
  local id, node, state = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local hasRetry = ARGV[i + 9] == '1'
  local cur = redis.call('HMGET', P .. 'run:' .. id, 'job', 'state', 'node')
  if not cur[1] then
    out[#out + 1] = {'vanished'}
  elseif cur[2] ~= '2' or cur[3] ~= node then
    out[#out + 1] = {'conflict', cur[2], cur[3]}
  else
    stop(id, cur[1], node, state, ARGV[i + 3], {'finished', ARGV[i + 4], 'started', ARGV[i + 5],
      'error', ARGV[i + 6], 'stack', ARGV[i + 7], 'reason', ARGV[i + 8]})
    local retried = 0
    if hasRetry and insert(i + 10) then
      retried = 1
      notice(2, cur[1])
    end
    out[#out + 1] = {'ok', retried}
  end
  i = i + 10
  if hasRetry then i = i + RUNF end
end
out[#out + 1] = publish()
return out

-- heartbeat.lua records that node ARGV[4] lives until ARGV[8] (µs), with
-- role ARGV[5], started ARGV[6] and seen ARGV[7] (text), and checks the
-- runs it holds (ARGV[9] on). Returns {runs to cancel, runs whose record
-- is gone, the earliest heartbeat expiry (µs) of another node or ''}: a
-- run is cancelled when it is not running on the node any more, a newer
-- fire asked for it, or its record vanished.
local node = ARGV[4]
redis.call('ZADD', P .. 'nodes', ARGV[8], node)
redis.call('HSET', P .. 'node:' .. node, 'role', ARGV[5], 'started', ARGV[6], 'seen', ARGV[7])
local cancel, gone = {}, {}
for a = 9, #ARGV do
  local r = redis.call('HMGET', P .. 'run:' .. ARGV[a], 'state', 'node', 'cancel')
  if not r[1] then
    cancel[#cancel + 1] = ARGV[a]
    gone[#gone + 1] = ARGV[a]
  elseif r[1] ~= '2' or r[2] ~= node or r[3] == '1' then
    cancel[#cancel + 1] = ARGV[a]
  end
end
local peer = ''
local first = redis.call('ZRANGE', P .. 'nodes', 0, 1, 'WITHSCORES')
for k = 1, #first, 2 do
  if first[k] ~= node then
    peer = first[k + 1]
    break
  end
end
return {cancel, gone, peer}

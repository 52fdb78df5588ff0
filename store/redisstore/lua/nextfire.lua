-- nextfire.lua returns the earliest next fire (text) among unpaused,
-- unclaimed jobs and the earliest claim expiry (µs), each '' if none.
local d = redis.call('ZRANGE', P .. 'due', 0, 0)
local c = redis.call('ZRANGE', P .. 'claims', 0, 0, 'WITHSCORES')
local fire = ''
if d[1] then fire = redis.call('HGET', P .. 'job:' .. d[1], 'next') or '' end
return {fire, c[2] or ''}

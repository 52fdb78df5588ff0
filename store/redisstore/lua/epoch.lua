-- epoch.lua starts a generation on an empty prefix, or returns the one
-- there. It runs without common.lua: KEYS[1] is the epoch key, ARGV[1] a
-- new random epoch.
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])

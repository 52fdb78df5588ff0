-- common.lua begins every script of the store. KEYS[1] is the prefix's
-- epoch key; ARGV[1] is the prefix, ARGV[2] the epoch the Store opened
-- (a script refuses to touch a prefix whose data was wiped), ARGV[3] the
-- Store's instance ID (so it skips its own notices). A script's own
-- arguments start at ARGV[4].
local P = ARGV[1]
if redis.call('GET', KEYS[1]) ~= ARGV[2] then
  return redis.error_reply('SUNDIAL_DATALOST ' .. KEYS[1] .. ' is gone or changed')
end

-- RUNF is the number of arguments of a run to insert (see insert).
local RUNF = 16

-- num writes an integer-valued number in full: Lua's own conversion keeps
-- 14 digits, and microsecond times have 16.
local function num(x) return string.format('%.0f', x) end

-- clock returns the earlier of now (µs, the caller's clock) and Redis's
-- TIME: a script that takes something from another node (an expired
-- claim, a lost node's runs) measures on both, so a node whose clock runs
-- fast takes nothing early.
local function clock(now)
  local t = redis.call('TIME')
  local s = tonumber(t[1]) * 1000000 + tonumber(t[2])
  if now < s then return now end
  return s
end

-- Notices are collected while a script runs, each (kind, job) once, and
-- published in one message at its end. A script that changed more than
-- NOTICEMAX jobs sends one notice per kind instead, without a job: a
-- batch of a thousand fires wakes the other nodes' loops just as well.
local NOTICEMAX = 64
local notices, noticed, kinds = {}, {}, {}
local function notice(kind, job, next)
  local k = kind .. ':' .. job
  if noticed[k] then return end
  noticed[k] = true
  kinds[kind] = true
  notices[#notices + 1] = {kind, job, next or ''}
end
local function publish()
  if #notices == 0 then return '' end
  if #notices > NOTICEMAX then
    notices = {}
    for kind = 1, 3 do
      if kinds[kind] then notices[#notices + 1] = {kind, '', ''} end
    end
  end
  local p = cjson.encode({i = ARGV[3], n = notices})
  redis.call('PUBLISH', P .. 'notices', p)
  return p
end

-- set writes the field, value pairs of kv to the hash at key, deleting
-- the fields whose value is empty: a run keeps no empty fields, which
-- saves Redis's memory (rec reads a missing field as empty).
local function set(key, kv)
  local put, del = {}, {}
  for k = 1, #kv, 2 do
    if kv[k + 1] == '' then
      del[#del + 1] = kv[k]
    else
      put[#put + 1] = kv[k]
      put[#put + 1] = kv[k + 1]
    end
  end
  if #put > 0 then redis.call('HSET', key, unpack(put)) end
  if #del > 0 then redis.call('HDEL', key, unpack(del)) end
end

-- rec returns what Go decodes a run from.
local function rec(id)
  return redis.call('HMGET', P .. 'run:' .. id, 'spec', 'state', 'reason', 'node', 'fence',
    'started', 'finished', 'error', 'stack')
end

-- archive adds a run that just became final to its job's history, in the
-- order runs finish, and to the index by finish time.
local function archive(id, job, fin)
  local seq = redis.call('INCR', P .. 'archive')
  redis.call('ZADD', P .. 'done:' .. job, seq, id)
  redis.call('ZADD', P .. 'finished', fin, id)
  redis.call('SADD', P .. 'donejobs', job)
end

-- restate moves a run from one state's index to another's.
local function restate(id, from, to)
  local sched = redis.call('ZSCORE', P .. 'runs', id)
  redis.call('ZREM', P .. 'state:' .. from, id)
  redis.call('ZADD', P .. 'state:' .. to, sched, id)
end

-- insert stores the run whose RUNF arguments start at ARGV[i], unless its
-- ID or its fire's key (job, scheduled, attempt, manual) exists: the
-- exactly-once rule. Returns the run's ID and job, or nil.
local function insert(i)
  local id, job, key, pool, state = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local due, sched, fin = ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]
  local rk = P .. 'run:' .. id
  if redis.call('EXISTS', rk) == 1 then return nil end
  if redis.call('HSETNX', P .. 'fire:' .. job, key, id) == 0 then return nil end
  set(rk, {'spec', ARGV[i + 8], 'job', job, 'key', key, 'state', state,
    'reason', ARGV[i + 9], 'node', ARGV[i + 10], 'fence', ARGV[i + 11], 'started', ARGV[i + 12],
    'finished', ARGV[i + 13], 'error', ARGV[i + 14], 'stack', ARGV[i + 15]})
  redis.call('ZADD', P .. 'runs', sched, id)
  redis.call('ZADD', P .. 'hist:' .. job, sched, id)
  redis.call('ZADD', P .. 'state:' .. state, sched, id)
  if state == '1' then
    -- Runs due at the same time start in the order they were inserted.
    local seq = num(redis.call('INCR', P .. 'pendseq'))
    redis.call('ZADD', P .. 'pending:' .. pool, due, string.rep('0', 16 - #seq) .. seq .. ':' .. id)
    redis.call('ZADD', P .. 'pendjob:' .. job, due, id)
  else
    archive(id, job, fin)
  end
  return id
end

-- stop takes a running run out of the running indexes and ends it in
-- state, finished at fin (µs), with its fields set from the pairs in kv.
local function stop(id, job, node, state, fin, kv)
  local rk = P .. 'run:' .. id
  kv[#kv + 1] = 'state'
  kv[#kv + 1] = state
  kv[#kv + 1] = 'cancel'
  kv[#kv + 1] = ''
  set(rk, kv)
  redis.call('ZREM', P .. 'running:' .. job, id)
  redis.call('SREM', P .. 'noderuns:' .. node, id)
  restate(id, '2', state)
  archive(id, job, fin)
  notice(3, job)
end


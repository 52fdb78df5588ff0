-- getjobs.lua reads jobs: those named from ARGV[5] on when ARGV[4] is
-- 'ids' (a spec, next pair for each, nil for a missing one), else a
-- listing: ARGV[5] tag, ARGV[6] task, ARGV[7] paused ('', '0' or '1'),
-- ARGV[8] after (an ID), ARGV[9] limit (0: all), as a flat list of spec,
-- next pairs in ID order.
local out = {}
if ARGV[4] == 'ids' then
  for a = 5, #ARGV do
    local j = redis.call('HMGET', P .. 'job:' .. ARGV[a], 'spec', 'next')
    out[#out + 1] = j[1]
    out[#out + 1] = j[2]
  end
  return out
end
local tag, task, paused, after, limit = ARGV[5], ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9])
local src = P .. 'jobs'
if tag ~= '' then src = P .. 'tag:' .. tag elseif task ~= '' then src = P .. 'task:' .. task end
local from = '-'
if after ~= '' then from = '(' .. after end
while true do
  local page = redis.call('ZRANGEBYLEX', src, from, '+', 'LIMIT', 0, 500)
  for _, id in ipairs(page) do
    local j = redis.call('HMGET', P .. 'job:' .. id, 'spec', 'next', 'task', 'paused')
    local ok = j[1] and (task == '' or j[3] == task) and (paused == '' or j[4] == paused)
    if ok and tag ~= '' and src ~= P .. 'tag:' .. tag then
      ok = redis.call('ZSCORE', P .. 'tag:' .. tag, id)
    end
    if ok then
      out[#out + 1] = j[1]
      out[#out + 1] = j[2]
      if limit > 0 and #out >= 2 * limit then return out end
    end
  end
  if #page < 500 then return out end
  from = '(' .. page[#page]
end

-- getruns.lua reads runs: the one named ARGV[5] when ARGV[4] is 'one'
-- (its rec, or nothing), else a listing, newest Scheduled first (ties:
-- greatest ID first): ARGV[5] job, ARGV[6] states (comma-separated
-- numbers), ARGV[7] from and ARGV[8] to (µs, ''), ARGV[9] before (a run
-- ID), ARGV[10] limit, ARGV[11] node (''), ARGV[12] started before (''
-- or an instant in UTC as YYYY-MM-DDTHH:MM:SS and nine digits of
-- fraction). Returns the recs.
if ARGV[4] == 'one' then
  local r = rec(ARGV[5])
  if not r[1] then return {} end
  return {r}
end
local job, states, limit = ARGV[5], ARGV[6], tonumber(ARGV[10])
local node, startedBefore = ARGV[11], ARGV[12]
local want, sources = nil, {}
if job ~= '' then
  sources[1] = P .. 'hist:' .. job
  if states ~= '' then
    want = {}
    for s in string.gmatch(states, '[^,]+') do want[s] = true end
  end
elseif states ~= '' then
  for s in string.gmatch(states, '[^,]+') do sources[#sources + 1] = P .. 'state:' .. s end
else
  sources[1] = P .. 'runs'
end
local max, min = '+inf', '-inf'
if ARGV[7] ~= '' then min = ARGV[7] end
if ARGV[8] ~= '' then max = '(' .. ARGV[8] end
local before, bscore = ARGV[9], nil
if before ~= '' then bscore = redis.call('ZSCORE', P .. 'runs', before) end
if bscore and (ARGV[8] == '' or tonumber(bscore) < tonumber(ARGV[8])) then max = bscore end
-- lt compares strings byte by byte, as Redis orders members (Lua's own
-- comparison follows the server's locale).
local function lt(a, b)
  for k = 1, math.min(#a, #b) do
    local x, y = string.byte(a, k), string.byte(b, k)
    if x ~= y then return x < y end
  end
  return #a < #b
end
-- after reports whether a listed run comes after the run named before.
local function after(id, score)
  return not bscore or tonumber(score) < tonumber(bscore) or lt(id, before)
end
-- fixed writes a stored instant (RFC 3339 in UTC, its fraction's
-- trailing zeros left out) at ARGV[12]'s width, which compares in time
-- order.
local function fixed(t)
  local frac = string.match(t, '^%.(%d+)', 20) or ''
  return string.sub(t, 1, 19) .. frac .. string.rep('0', 9 - #frac)
end
-- selected reports whether the run passes the filters on its fields.
local function selected(id)
  if not want and node == '' and startedBefore == '' then return true end
  local f = redis.call('HMGET', P .. 'run:' .. id, 'state', 'node', 'started')
  if want and not want[f[1] or ''] then return false end
  if node ~= '' and f[2] ~= node then return false end
  if startedBefore ~= '' then
    local started = f[3] or ''
    if started == '' or not lt(fixed(started), startedBefore) then return false end
  end
  return true
end
local found = {}
for _, src in ipairs(sources) do
  local off, got = 0, 0
  while got < limit do
    local page = redis.call('ZREVRANGEBYSCORE', src, max, min, 'WITHSCORES', 'LIMIT', off, 256)
    for k = 1, #page, 2 do
      local id, score = page[k], page[k + 1]
      if got < limit and after(id, score) and selected(id) then
        found[#found + 1] = {tonumber(score), id}
        got = got + 1
      end
    end
    if #page < 512 then break end
    off = off + 256
  end
end
table.sort(found, function(a, b)
  if a[1] ~= b[1] then return a[1] > b[1] end
  return lt(b[2], a[2])
end)
local out = {}
for k = 1, math.min(limit, #found) do out[k] = rec(found[k][2]) end
return out

-- addruns.lua inserts runs (RUNF arguments each, from ARGV[4]), dropping
-- those whose ID or fire's key exists. Returns the inserted IDs, then the
-- notices.
local out, jobs = {}, {}
for i = 4, #ARGV, RUNF do
  if insert(i) then
    out[#out + 1] = ARGV[i]
    if not jobs[ARGV[i + 1]] then
      jobs[ARGV[i + 1]] = true
      notice(2, ARGV[i + 1])
    end
  end
end
out[#out + 1] = publish()
return out

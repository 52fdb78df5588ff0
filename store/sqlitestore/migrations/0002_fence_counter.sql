-- Fencing tokens come from one counter for the whole store instead of a
-- row per job: a token taken from a counter that only grows is strictly
-- increasing per job too, and a claim then takes all its tokens in one
-- statement instead of one upsert per run. The counter starts above every
-- token already issued.
INSERT INTO counters (name, value) SELECT 'fence', coalesce(max(fence), 0) FROM fences;
DROP TABLE fences;

-- A claim whose lease runs out uncommitted (its scheduler died, or lost
-- the answer, in mid-round) leaves its end here until the job is next
-- committed: the fires due until then were nobody's to decide on time,
-- so the next claim neither coalesces nor skips them (DueJob.Lapsed).
ALTER TABLE jobs ADD COLUMN lapsed TEXT;

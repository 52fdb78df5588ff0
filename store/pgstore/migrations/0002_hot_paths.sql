-- 0002: lighter writes on the hot paths.
--
-- runs_running (node, state = 2) misled the planner: finishing a batch of
-- runs (WHERE id = ... AND state = 2 AND node = ...) walked every running
-- run of the node through it for each run ended, instead of one probe of
-- the primary key, which made FinishRuns the costliest statement at
-- thousands of runs a second. Its one other use, interrupting a lost
-- node's runs, is rare and reads runs_active (the pending and running
-- runs) as cheaply. Without it a claim also writes one index entry less.
DROP INDEX {schema}.runs_running;

-- Room on each page for the new versions of its rows: every run is
-- updated twice (claimed, ended) and every job twice per fire (claimed,
-- committed), and a new version that fits on its old page spares a write
-- to the last page of the table, which every node's inserts contend for.
-- It applies to pages written from now on.
ALTER TABLE {schema}.runs SET (fillfactor = 70);
ALTER TABLE {schema}.jobs SET (fillfactor = 70);

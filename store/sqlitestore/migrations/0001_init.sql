-- 0001: the first schema. Times are TEXT in a fixed-width UTC form
-- ('2006-01-02T15:04:05.000000000Z'), so they compare as strings in time
-- order and read back to the nanosecond. Run states are sundial.RunState
-- numbers: 1 pending, 2 running, 3 and above final.

-- jobs: one row per job. spec is the job's JSON (sundial.Job.MarshalJSON)
-- without next_fire and args, which have their own columns; the other
-- columns are copies the queries need. A claim (claim_token, claim_node,
-- claim_until) is a lease of the job to one scheduler, all NULL when free.
CREATE TABLE jobs (
	id          TEXT PRIMARY KEY,
	task        TEXT NOT NULL,
	paused      INTEGER NOT NULL,
	instances   INTEGER NOT NULL, -- MaxInstances with its default applied
	version     INTEGER NOT NULL,
	next_fire   TEXT,             -- NULL: the job will not fire again
	spec        TEXT NOT NULL,
	args        BLOB,
	claim_token INTEGER,
	claim_node  TEXT,
	claim_until TEXT
);

-- The schedule loop's index: only unpaused jobs that will fire.
CREATE INDEX jobs_due ON jobs (next_fire, id) WHERE paused = 0 AND next_fire IS NOT NULL;
CREATE INDEX jobs_claimed ON jobs (claim_until) WHERE claim_until IS NOT NULL;

-- runs: one row per attempt of a fire, and the history. Runs outlive
-- their jobs, so there is no foreign key to jobs. pool is executor with
-- "" read as "default"; archived orders finished runs (NULL until final).
CREATE TABLE runs (
	id         TEXT PRIMARY KEY,
	job_id     TEXT NOT NULL,
	task       TEXT NOT NULL,
	args       BLOB,
	scheduled  TEXT NOT NULL,
	due        TEXT NOT NULL,
	jitter     INTEGER NOT NULL,
	manual     INTEGER NOT NULL,
	attempt    INTEGER NOT NULL,
	state      INTEGER NOT NULL,
	reason     TEXT NOT NULL,
	node       TEXT NOT NULL,
	executor   TEXT NOT NULL,
	pool       TEXT NOT NULL,
	fence      INTEGER NOT NULL,
	timeout    INTEGER NOT NULL,
	slow_after INTEGER NOT NULL,
	created    TEXT NOT NULL,
	started    TEXT NOT NULL,
	finished   TEXT NOT NULL,
	error      TEXT NOT NULL,
	stack      TEXT NOT NULL,
	cancel     INTEGER NOT NULL DEFAULT 0, -- cancellation requested
	archived   INTEGER,
	-- The exactly-once key: at most one run per attempt of a fire.
	UNIQUE (job_id, scheduled, attempt, manual)
);

CREATE INDEX runs_pending ON runs (pool, due) WHERE state = 1;
CREATE INDEX runs_pending_job ON runs (job_id) WHERE state = 1;
CREATE INDEX runs_running ON runs (job_id, fence) WHERE state = 2;
CREATE INDEX runs_history ON runs (job_id, archived) WHERE archived IS NOT NULL;
CREATE INDEX runs_finished ON runs (finished) WHERE archived IS NOT NULL;
CREATE INDEX runs_scheduled ON runs (scheduled, id);

-- fences: the last fencing token per job ID. It survives the job's
-- removal, so tokens keep increasing if the ID is used again.
CREATE TABLE fences (
	job_id TEXT PRIMARY KEY,
	fence  INTEGER NOT NULL
);

-- nodes: heartbeats. A node whose expires has passed is lost.
CREATE TABLE nodes (
	id      TEXT PRIMARY KEY,
	role    INTEGER NOT NULL,
	started TEXT NOT NULL,
	seen    TEXT NOT NULL,
	expires TEXT NOT NULL
);

-- counters: claim tokens and the order of finished runs.
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('claim', 0), ('archive', 0);

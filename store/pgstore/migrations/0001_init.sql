-- 0001: the first schema. {schema} stands for the schema's quoted name.
--
-- Times are bigint nanoseconds since the Unix epoch, in UTC, so that they
-- keep Go's full precision (a trigger computes the next fire from the
-- stored one, and a fire truncated to microseconds would fire again): read
-- one with to_timestamp(col / 1e9). In NOT NULL time columns the zero
-- time.Time (a run never started) is -9223372036854775808, which sorts
-- before every other time. Run states are sundial.RunState numbers:
-- 1 pending, 2 running, 3 and above final. IDs compare byte by byte
-- (COLLATE "C"), as Go strings do.

-- jobs: one row per job. spec is the job's JSON (sundial.Job.MarshalJSON)
-- without next_fire and args, which have columns of their own; the other
-- columns are copies the queries need. A claim (claim_token, claim_node,
-- claim_until) is a lease of the job to one scheduler, all NULL when free.
CREATE TABLE {schema}.jobs (
	id          text COLLATE "C" PRIMARY KEY,
	task        text NOT NULL,
	paused      boolean NOT NULL,
	instances   integer NOT NULL, -- MaxInstances with its default applied
	version     bigint NOT NULL,
	next_fire   bigint,           -- NULL: the job will not fire again
	spec        json NOT NULL,
	args        bytea,
	claim_token bigint,
	claim_node  text,
	claim_until bigint
);

-- The schedule loop's index: unpaused jobs that will fire, by next fire.
CREATE INDEX jobs_due ON {schema}.jobs (next_fire, id) WHERE NOT paused AND next_fire IS NOT NULL;
-- Held claims, for the earliest lease expiry.
CREATE INDEX jobs_claimed ON {schema}.jobs (claim_until) WHERE claim_until IS NOT NULL;

-- Claim tokens, fencing tokens, and the order in which runs finished.
-- A fencing token comes from one sequence for every job: claims of one
-- job take turns (an advisory lock), so each job's tokens increase
-- strictly, and they go on increasing if a removed job's ID is used
-- again.
CREATE SEQUENCE {schema}.claim_tokens;
CREATE SEQUENCE {schema}.fence_tokens;
CREATE SEQUENCE {schema}.finish_order;

-- runs: one row per attempt of a fire, and the history. Runs outlive
-- their jobs, so there is no foreign key to jobs. pool is executor with
-- "" read as "default"; seq is the insertion order (ties of due);
-- archived is the finish order (NULL until final).
CREATE TABLE {schema}.runs (
	id         text COLLATE "C" PRIMARY KEY,
	seq        bigint GENERATED ALWAYS AS IDENTITY,
	job_id     text COLLATE "C" NOT NULL,
	task       text NOT NULL,
	args       bytea,
	scheduled  bigint NOT NULL,
	due        bigint NOT NULL,
	jitter     bigint NOT NULL,
	manual     boolean NOT NULL,
	attempt    integer NOT NULL,
	state      smallint NOT NULL,
	reason     text NOT NULL,
	node       text COLLATE "C" NOT NULL,
	executor   text NOT NULL,
	pool       text NOT NULL,
	fence      bigint NOT NULL,
	timeout    bigint NOT NULL,
	slow_after bigint NOT NULL,
	created    bigint NOT NULL,
	started    bigint NOT NULL,
	finished   bigint NOT NULL,
	error      text NOT NULL,
	stack      text NOT NULL,
	cancel     boolean NOT NULL DEFAULT false, -- cancellation requested
	archived   bigint,
	-- The exactly-once key: at most one run per attempt of a fire.
	UNIQUE (job_id, scheduled, attempt, manual)
);

-- The worker's index: pending runs by pool and due.
CREATE INDEX runs_pending ON {schema}.runs (pool, due, seq) WHERE state = 1;
-- A job's pending and running runs (max instances, a claimed job's runs).
CREATE INDEX runs_active ON {schema}.runs (job_id, state) WHERE state <= 2;
-- Running runs by node (recovery of a lost node).
CREATE INDEX runs_running ON {schema}.runs (node) WHERE state = 2;
-- History: by job in finish order (KeepPerJob), by finish time (MaxAge),
-- and by scheduled time (listings).
CREATE INDEX runs_history ON {schema}.runs (job_id, archived) WHERE archived IS NOT NULL;
CREATE INDEX runs_finished ON {schema}.runs (finished) WHERE archived IS NOT NULL;
CREATE INDEX runs_scheduled ON {schema}.runs (scheduled, id);

-- nodes: heartbeats. A node whose expires has passed is lost.
CREATE TABLE {schema}.nodes (
	id      text COLLATE "C" PRIMARY KEY,
	role    smallint NOT NULL,
	started bigint NOT NULL,
	seen    bigint NOT NULL,
	expires bigint NOT NULL
);

-- event_batches: batches of events too large for a NOTIFY payload. The
-- notification carries the row's id; rows older than a few minutes are
-- deleted as new ones arrive.
CREATE TABLE {schema}.event_batches (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	created timestamptz NOT NULL DEFAULT now(),
	data    text NOT NULL
);

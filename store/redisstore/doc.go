// Package redisstore is a sundial.Store on Redis, through go-redis/v9:
// the store for teams whose replicas already share a Redis server. Any
// number of scheduler processes may share a key prefix, and each fire
// still runs once: every step that two nodes could race on is one Lua
// script, which Redis runs atomically.
//
//	store, err := redisstore.New(ctx, redisstore.Config{URL: "redis://redis:6379/0"})
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	sched, err := sundial.New(sundial.Config{Store: store})
//
// # What is stored
//
// Every key starts with Config.Prefix ("sundial:" by default); Stores on
// one prefix share jobs and runs, and prefixes keep several schedulers
// apart on one server. Under the prefix:
//
//   - job:<id>, a hash per job: its JSON form (sundial.Job.MarshalJSON)
//     beside what queries need (task, paused, max instances, version,
//     tags, the next fire) and its claim (token, node, lease end). Sorted
//     sets index the jobs: jobs (by ID), due (unpaused, unclaimed jobs by
//     next fire), claims (by lease end), task:<task> and tag:<tag>.
//   - run:<id>, a hash per run and attempt: its JSON form as created,
//     beside the fields that change (state, node, fencing token, start,
//     end, error). fire:<job> maps each fire's exactly-once key
//     (scheduled time, attempt, manual) to its run: a second run of the
//     same fire is never inserted. Sorted sets index the runs: pending by
//     due time per executor pool and per job, running per job (and a set
//     per node), the history per job and per state and in all by
//     scheduled time, and finished runs by end and per job in the order
//     they finished. Runs outlive their jobs; history grows until
//     PruneRuns deletes it (set sundial.Config.Retention): a run kept
//     costs about 1.6 KB of Redis's memory with its indexes, so 200 jobs
//     firing every second keep about 28 GB a day.
//   - fence:<job>, the last fencing token of a job (INCR: strictly
//     increasing); claimseq, archive, pendseq: counters.
//   - nodes (heartbeat expiry by node), node:<id>, noderuns:<id>.
//   - epoch: the generation of the data (see Data loss below).
//
// Times are stored as RFC 3339 text to the nanosecond where they are read
// back, and as Unix microseconds where Redis orders them (sorted-set
// scores are doubles, exact to the microsecond for the next two
// centuries): an index is exact to the microsecond.
//
// # Scripts
//
// Each atomic step is one script, loaded by hash (EVALSHA): claiming due
// jobs (releasing expired claims first), committing a batch of fires
// (each job's runs and its next fire together, refused for a job whose
// claim token no longer holds), claiming pending runs (honouring every
// job's MaxInstances across the cluster and each executor's free slots,
// giving each run its job's next fencing token), finishing a batch of
// runs with their retries, a heartbeat, and recovering a lost node's runs
// as interrupted with the retries its jobs' policies allow. Reads are
// scripts too, so that every call checks the epoch. Scripts that could
// touch many keys (removing all jobs, pruning) work in bounded chunks.
//
// The scripts name keys they compute, not only those they declare, so
// on Redis Cluster every key must share a slot: use a prefix with a hash
// tag, such as "{sundial}:". One prefix then lives on one shard.
//
// # Time
//
// Callers pass now from their clock, as with every sundial store, and
// the scheduler passes its clock corrected by its offset from Redis's
// (the Store is a sundial.StoreClock: StoreNow reads TIME). In addition,
// a script that takes something away from another node, an expired claim
// or a lost node's runs, counts it expired only by the earlier of the
// caller's now and Redis's TIME: a node whose clock runs fast, say by
// 30 s, takes nothing before its time. (A clock that is slow gives its
// own leases away early, which costs lateness but no double fire: a
// commit with a lost claim token is refused, and a fire's key is unique.)
//
// # Notices and events
//
// The Store is a sundial.Notifier: each script that changes jobs or runs
// publishes one message on <prefix>notices when it ends, listing what
// changed, so that a job added on one node and due 200 ms later fires on
// time on another. It is a sundial.NoticeHealth: NoticesLive is false
// while its subscription connection is down (the scheduler then polls);
// when it drops the Store delivers NoticeJobsChanged, and on reconnecting
// NoticeJobsChanged and NoticeRunsCreated. It is a sundial.EventBus on
// <prefix>events. Pub/sub
// is fire and forget: a message sent while a Store is disconnected is not
// replayed; the history in the store is the record.
//
// # Persistence: what the guarantees assume
//
// Redis acknowledges a write before it is on disk unless told otherwise,
// and the guarantees are only as durable as the writes they rest on:
//
//   - appendonly yes with appendfsync always: an acknowledged script is
//     on disk; a restart loses nothing. This is what exactly-once across
//     a Redis restart needs.
//   - appendfsync everysec (the default with AOF): a crash of the server
//     (not of a client) loses up to about a second of writes. A fire
//     committed in that second is forgotten with its job's advance, so
//     it fires again; a run claimed in it is pending again, and may run
//     twice; a fencing token may be handed out twice.
//   - RDB snapshots only: a restart goes back to the last snapshot, with
//     the same effects over minutes.
//   - no persistence: a restart loses everything: jobs, history, leases,
//     fences.
//
// Replication does not change this: a replica promoted after a failover
// may lack the last writes it had not received (WAIT is not used).
//
// # Data loss, detected
//
// New writes an epoch key when it finds the prefix empty, and every
// script checks it. When it is gone or changed (FLUSHDB, a restart
// without persistence, keys deleted by hand), every call of a Store
// opened before fails with ErrDataLost, until the process opens a new
// Store (which starts a new epoch) and declares its jobs again; the
// Store never goes on as if the data were still there. A Store opened on
// an empty prefix cannot tell a wiped prefix from a new one.
//
// A partial loss (the last second under everysec) keeps the epoch. A node
// still running a run whose record vanished is told to cancel it at its
// next heartbeat (logged as run_vanished), and FinishRun for it fails
// with ErrRunVanished, which the scheduler logs: the run is never re-run
// silently. FinishRun also writes the run's end back as the record of its
// fire, unless another run already holds the fire's key, so that the
// fire counts as done.
//
// # Errors and connections
//
// Errors match sundial.ErrNotFound, sundial.ErrConflict and
// sundial.ErrInvalid (a *sundial.FieldError, from the same checks the
// memory store makes) where those apply, and ErrDataLost and
// ErrRunVanished. Messages start with "redisstore:"; go-redis's error
// types never reach the caller. When the connection drops, calls fail
// with such an error and work again once go-redis reconnects; a script
// whose answer was lost may have run, which the scheduler allows for
// (a commit it repeats is refused, a claim it lost is released after a
// heartbeat TTL).
package redisstore

// Package pgstore is a sundial.Store on PostgreSQL, through pgx/v5. It is
// the store for a service that runs on several replicas: each replica's
// scheduler opens a Store on the same database, and every fire runs once
// across them, whatever their number, their clocks or their crashes.
//
//	store, err := pgstore.New(ctx, pgstore.Config{URL: "postgres://app@db/app"})
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	sched, err := sundial.New(sundial.Config{Store: store})
//
// Config takes a connection string, for a pool the Store opens and
// closes, or a *pgxpool.Pool the application already has.
//
// # What is stored
//
// The tables live in one schema, "sundial" unless Config.Schema names
// another (several clusters may share a database, each in its schema).
// New creates the schema, or upgrades it, with the versioned SQL
// migrations embedded in the package (migrations/NNNN_name.sql), in one
// transaction under an advisory lock, so replicas starting together
// apply each migration once; Migrate does the same on demand, and
// Config.NoMigrate leaves it to a separate step. The tables:
//
//   - jobs: one row per job. The job's JSON form (sundial.Job.MarshalJSON:
//     trigger, options, tags, metadata) is kept whole in a json column,
//     beside copies of what queries need: task, paused, max instances,
//     version, the next fire, the arguments, and the claim (token, node
//     and lease expiry).
//   - runs: every run and the history, one row per attempt, with the
//     exactly-once key UNIQUE (job_id, scheduled, attempt, manual). Runs
//     outlive their jobs. History grows until PruneRuns deletes it.
//   - nodes: each node's last heartbeat and when it counts as lost.
//   - event_batches: events too large for a notification (below).
//
// Partial indexes cover what the hot paths scan: unpaused jobs by next
// fire, held claims by expiry, pending runs by pool and due, each job's
// pending and running runs, and running runs by node. Claim tokens,
// fencing tokens and the order of finished runs come from sequences;
// claims of one job take turns, so its fencing tokens increase strictly.
//
// Times are bigint nanoseconds since the Unix epoch, so they keep Go's
// precision (a next fire computed from a microsecond-truncated one could
// fire twice); to_timestamp(next_fire / 1e9) shows one. That covers the
// years 1678 to 2262: a job or run with a time outside them is refused
// with sundial.ErrInvalid, and a next fire a trigger computes beyond 2262
// is stored as none. IDs compare byte by byte (COLLATE "C"), as in Go.
//
// # Transactions
//
// Every change is one transaction, and the hot ones are one statement
// sent in one round trip, however many jobs or runs they carry (arrays
// and unnest): claiming due jobs (SELECT ... FOR UPDATE SKIP LOCKED, so
// schedulers claiming at once take different jobs), committing fires
// (runs inserted, ON CONFLICT DO NOTHING, and the next fire set, only for
// the jobs whose claim token still holds), finishing runs with their
// retries (FinishRuns), heartbeats. Claiming runs takes three round trips
// in one transaction: lock candidate runs, lock their jobs (advisory
// locks, taken in order) and count their running runs, start them. That
// is what makes MaxInstances hold across nodes. Transactions run at READ
// COMMITTED; one that PostgreSQL aborts to break a deadlock is retried.
//
// # Clocks
//
// Methods take now from the caller, so tests pin time. A Store is a
// sundial.StoreClock: StoreNow reads clock_timestamp(), and the scheduler
// runs on its own clock corrected by the measured offset, so replicas
// agree on when fires are due. Besides, whatever takes work from another
// node holds on the server's clock too: another node's claim is taken
// over only once its lease has ended by the caller's now and by
// clock_timestamp() (a node takes its own claims back at once, since it
// claims again only after giving them up), and a
// node counts as lost only once its heartbeat expired by both. A node
// whose clock runs 30 s fast therefore neither steals a live claim nor
// interrupts a live node's runs (a node whose clock runs slow relies on
// the scheduler's correction).
//
// # Notices and events
//
// A Store implements sundial.Notifier with LISTEN/NOTIFY on the channel
// "<schema>.notices", so a job added on one replica, due 200 ms later,
// fires on time on another. Each change is announced once it has
// committed, never before: to the Store's own subscribers at once, and
// to the others by a NOTIFY sent right after the commit, coalesced (a
// commit of a thousand fires is one notification, and commits made while
// one is on its way share the next). The NOTIFY is not part of the
// change's transaction because a transaction that NOTIFYs holds a lock,
// until its commit is on disk, that serializes every notifying commit in
// the database: on the test machine, 8 clients wrote 958 transactions a
// second without NOTIFY and 137 with. A process that dies between a
// commit and its NOTIFY loses that notice (Close sends what is queued);
// the other nodes find the change when they next wake or poll.
// Notifications arrive on one dedicated connection, outside the pool,
// opened by the first subscription. When that connection drops it
// reports sundial.NoticeHealth's NoticesLive false (the scheduler polls
// meanwhile), reconnects with backoff, and on its return sends
// NoticeJobsChanged and NoticeRunsCreated so the loops look again.
//
// Events (sundial.EventBus) travel on "<schema>.events": a batch that
// fits a notification (under 8000 bytes) goes as it is; a larger one is
// split between events; an event too large by itself (a long stack
// trace) is stored in event_batches, kept five minutes, and its row's ID
// is sent instead. Events are best effort: those sent while a listener
// is disconnected are lost, as sundial.EventBus allows; the history is in
// the runs table. A pooler in transaction mode cannot carry LISTEN: give
// the Store a connection string that reaches the server, or a pooler in
// session mode.
//
// # When the server restarts
//
// While PostgreSQL is down, every method fails with an error (starting
// "pgstore:"); a transaction cut short is rolled back by the server, so
// nothing is half done. The scheduler logs, backs off and tries again;
// the pool replaces its dead connections as soon as the server accepts
// new ones, and the listener reconnects by itself. A change whose commit
// was under way when the connection dropped may or may not have been
// applied: the scheduler's retries are safe either way (a fire's run is
// inserted once, a lost claim expires, a run claimed but not reported is
// released by its node). Nothing is kept in memory between calls.
//
// # Errors
//
// Errors match sundial.ErrNotFound, sundial.ErrConflict and
// sundial.ErrInvalid (a *sundial.FieldError, from the same checks the
// memory store makes, or data PostgreSQL refuses) where those apply, and
// ErrSchema when the schema is not the one this build needs. Messages
// start with "pgstore:"; pgx's error types never reach the caller. A
// task's error or stack holding a NUL byte or invalid UTF-8, which text
// columns refuse, is stored with U+FFFD in their place.
package pgstore

// Package sqlitestore is a sundial.Store on SQLite, through the pure-Go
// driver modernc.org/sqlite, so a binary that uses it needs no cgo. It is
// the store for a scheduler whose jobs and history must survive restarts
// without a database server: the embedded default of `sundial serve`, and
// the choice for a service that runs on one machine.
//
//	store, err := sqlitestore.New(ctx, sqlitestore.Config{Path: "sundial.db"})
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	sched, err := sundial.New(sundial.Config{Store: store})
//
// # What is stored
//
// New creates the schema, or upgrades it, with the versioned SQL
// migrations embedded in the package (migrations/NNNN_name.sql), recording
// each applied version in the schema_version table; Migrate does the same
// on demand, and Config.NoMigrate leaves it to a separate step. The tables:
//
//   - jobs: one row per job. The job's JSON form (sundial.Job.MarshalJSON:
//     trigger, options, tags, metadata) is kept whole in a column, beside
//     copies of what queries need: task, paused, max instances, version,
//     the next fire (indexed for unpaused jobs that will fire, so a claim
//     reads only due jobs), the arguments, and the claim (token, node and
//     lease expiry).
//   - runs: every run and the history, one row per attempt, with the
//     exactly-once key UNIQUE(job_id, scheduled, attempt, manual). Runs
//     outlive their jobs. History grows until PruneRuns deletes it: unlike
//     the memory store, this store drops no finished run by itself.
//   - nodes: each node's last heartbeat and when it counts as lost.
//   - counters: claim tokens, fencing tokens (one counter for the store,
//     so a run's token is above every token issued before it, for its job
//     as for any other) and the order in which runs finished.
//
// Times are stored as fixed-width UTC text, to the nanosecond, and read
// back in UTC. Nothing is cached in memory: every call reads the file.
//
// # Transactions
//
// Every change is one transaction: creating a fire's runs and advancing
// its job's next fire (CommitFires, one transaction per batch), finishing
// a run and inserting its retry, interrupting a lost node's runs. Write
// transactions begin IMMEDIATE, taking SQLite's write lock before they
// read, so two writers never act on the same stale read. The file is in
// write-ahead-log mode, so reads (GetJob, ListRuns, NextFireTime) do not
// wait for the writer, and with synchronous=FULL a committed transaction
// survives a power loss. Claims and leases are measured against the now
// that callers pass, as in every sundial store.
//
// # Several processes
//
// Several processes (or several Stores in one process) may open the same
// file on one machine: SQLite's file locks serialize their writes, and a
// writer waits for the lock up to Config.BusyTimeout before it fails.
// Exactly-once holds across them as within one: a claim is a lease with a
// token that a commit must present, and the runs table's unique key drops
// a second run of the same fire whatever happens. Do not put the file on a
// network file system, whose locks SQLite cannot trust; nodes on several
// machines need pgstore or redisstore.
//
// A Store implements sundial.Notifier for the changes made through it:
// subscribers hear of them after the transaction commits, outside any
// lock. Changes made by another process are not announced; that process's
// own Store announces them to its subscribers, and a scheduler elsewhere
// finds them when it polls (sundial.Config.PollInterval, 1s by default).
//
// # Operations
//
// While a store is open its database is three files: the path and its
// -wal and -shm companions. Copy a live database with SQLite's online
// backup (the sqlite3 shell's ".backup", or VACUUM INTO), not with cp. The
// sqlite3 shell reads the tables directly; times in them are readable text.
// Call PruneRuns (for example daily) to bound the history.
//
// # Errors
//
// Errors match sundial.ErrNotFound, sundial.ErrConflict and
// sundial.ErrInvalid (a *sundial.FieldError, from the same checks the
// memory store makes) where those apply, and ErrSchema when the file's
// schema is not the one this build needs. Messages start with
// "sqlitestore:"; the driver's own error types never reach the caller.
// A ":memory:" database lives in one connection, shared by all calls,
// and is gone at Close.
package sqlitestore

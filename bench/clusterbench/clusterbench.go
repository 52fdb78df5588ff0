// Package clusterbench runs the multi-replica scenario of issues 5 and 6:
// N replicas of a service, each a separate OS process, share one backend
// and declare the same J jobs, each firing every second. Every task
// appends (job, scheduled time, start time) to a file of its own process,
// an independent record that the parent merges afterwards to count fires
// run, fires run more than once, fires never run and lateness. Optionally
// the parent SIGKILLs one replica (the leader, for libraries that elect
// one) and measures how long the killed node's work takes to resume
// elsewhere and how many fires were lost.
//
// The libraries compared, through one adapter each: sundial on
// store/pgstore and on store/redisstore, River's periodic jobs
// (PostgreSQL), gocron v2 with a Redis lock per fire
// (gocron.WithDistributedLocker, SET NX PX with a token-checked release),
// and gocron v2 with a leader elected on a Redis lease
// (gocron.WithDistributedElector).
//
// The command bench/cmd/clustertable runs it and prints the tables. A
// binary that runs [Run] must call [MaybeChild] first thing in main (or
// TestMain): the replicas are that binary started again.
package clusterbench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Replica is one library's scheduler in one replica process, its jobs
// already declared.
type Replica interface {
	Start(ctx context.Context) error
	// Stop stops scheduling and waits for running tasks.
	Stop(ctx context.Context) error
}

// Lib is one library behind the common face.
type Lib struct {
	Name string
	// Needs names the servers the library runs on: "postgres", "redis".
	Needs []string
	// Leader is true when one elected node schedules every job: the
	// failover then kills the leader, and every job counts as the killed
	// node's work.
	Leader bool
	// Setup prepares the shared backend once per run, in the parent
	// (schemas, migrations); Teardown removes what Setup and the replicas
	// left. Either may be nil.
	Setup, Teardown func(ctx context.Context, env *Env) error
	// LeaderNode names the current leader (for Leader libraries).
	LeaderNode func(ctx context.Context, env *Env) (string, error)
	// NewReplica makes node's scheduler and declares the jobs; its tasks
	// call rec.Record.
	NewReplica func(ctx context.Context, env *Env, node string, rec *Recorder) (Replica, error)
}

// Libs are the libraries compared, sundial first.
var Libs = []Lib{
	sundialPG,
	sundialRedis,
	riverLib,
	gocronLockLib,
	gocronElectorLib,
	sundialSQLite,
}

// LibNamed returns the library called name.
func LibNamed(name string) (Lib, error) {
	for _, l := range Libs {
		if l.Name == name {
			return l, nil
		}
	}
	return Lib{}, fmt.Errorf("clusterbench: no library %q", name)
}

// Options tune the adapters; every replica gets the same.
type Options struct {
	// SundialWorkers sizes sundial's default pool (0: 64).
	SundialWorkers int
	// HeartbeatTTL is sundial's Config.HeartbeatTTL (0: 5 s); its
	// HeartbeatInterval is a fifth of it.
	HeartbeatTTL time.Duration
	// JobLease is sundial's Config.JobLease (0: the library's default).
	JobLease time.Duration
	// ClaimAhead is sundial's Config.ClaimAhead (0: the library's default).
	ClaimAhead time.Duration
	// SundialRetries is the jobs' RetryPolicy.Attempts, so a run
	// interrupted by the kill is tried again (0: 2).
	SundialRetries int
	// SundialLocalEvents sets Config.LocalEvents: events stay on their
	// node instead of being published to the others through the store.
	SundialLocalEvents bool
	// RiverWorkers is River's MaxWorkers for its default queue (0: 100,
	// as River's periodic job example).
	RiverWorkers int
	// LockTTL is the Redis lock's and lease's TTL for gocron (0: 5 s).
	LockTTL time.Duration
}

// Env is everything a replica needs to know; the parent hands it to each
// child as JSON.
type Env struct {
	Lib      string
	Jobs     int
	Every    time.Duration
	Anchor   time.Time // the first fire of job 0
	Spread   bool      // phases spread over the interval; else all at Anchor
	Postgres string    // URL
	Redis    string    // URL
	Schema   string    // this run's PostgreSQL schema
	Prefix   string    // this run's Redis key prefix
	Dir      string    // this run's directory (records, logs, SQLite file)
	Options  Options
}

// First returns job i's first fire; later fires are every Every after it.
func (e *Env) First(job int) time.Time {
	if !e.Spread || e.Jobs == 0 {
		return e.Anchor
	}
	return e.Anchor.Add(time.Duration(int64(e.Every) * int64(job) / int64(e.Jobs)))
}

// JobID is the ID (or name) of job number i in every library.
func JobID(i int) string { return fmt.Sprintf("job-%07d", i) }

// jobIndex reverses JobID; -1 for an ID it did not make.
func jobIndex(id string) int {
	if len(id) != len("job-0000000") {
		return -1
	}
	n, err := strconv.Atoi(id[len("job-"):])
	if err != nil {
		return -1
	}
	return n
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// envURL is os.Getenv(name), or def when unset.
func envURL(name, def string) string { return or(os.Getenv(name), def) }

// DefaultPostgres and DefaultRedis are the servers used when the flags
// are not given: SUNDIAL_TEST_POSTGRES_URL and SUNDIAL_TEST_REDIS_URL, or
// the local servers.
var (
	DefaultPostgres = envURL("SUNDIAL_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	DefaultRedis    = envURL("SUNDIAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
)

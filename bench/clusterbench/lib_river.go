package clusterbench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// River's periodic jobs on PostgreSQL, in a schema of their own migrated
// by rivermigrate: every replica runs a river.Client (its ID the node's
// name) declaring the same periodic jobs; River elects a leader that
// inserts each due fire as a job, and any replica's producer works it.
// River's defaults throughout, but for MaxWorkers (100, as its periodic
// job example). The schedule is river.PeriodicInterval(every) given a
// phase (riverEvery below), so River fires the same slots as the other
// libraries: PeriodicInterval alone counts from when the leader starts.
// The task reads the fire's scheduled time from Job.ScheduledAt and the
// attempt from Job.Attempt.
var riverLib = Lib{
	Name:       "river",
	Needs:      []string{"postgres"},
	Leader:     true,
	Setup:      riverSetup,
	Teardown:   dropSchema,
	LeaderNode: riverLeader,
	NewReplica: newRiverReplica,
}

type riverArgs struct {
	Job int `json:"job"`
}

func (riverArgs) Kind() string { return "clusterbench" }

type riverWorker struct {
	river.WorkerDefaults[riverArgs]
	rec *Recorder
}

func (w *riverWorker) Work(ctx context.Context, job *river.Job[riverArgs]) error {
	w.rec.Record(job.Args.Job, job.ScheduledAt, job.Attempt)
	return nil
}

// riverEvery is PeriodicInterval(every) anchored at first: the next of
// first, first+every, ... after t.
type riverEvery struct {
	first time.Time
	every time.Duration
}

func (s riverEvery) Next(t time.Time) time.Time {
	if t.Before(s.first) {
		return s.first
	}
	return s.first.Add((t.Sub(s.first)/s.every + 1) * s.every)
}

func riverSetup(ctx context.Context, env *Env) error {
	pool, err := pgxpool.New(ctx, env.Postgres)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{env.Schema}.Sanitize()); err != nil {
		return err
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: env.Schema})
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

type riverReplica struct {
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]
}

func newRiverReplica(ctx context.Context, env *Env, node string, rec *Recorder) (Replica, error) {
	pool, err := pgxpool.New(ctx, env.Postgres)
	if err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &riverWorker{rec: rec})
	periodic := make([]*river.PeriodicJob, env.Jobs)
	for i := range periodic {
		periodic[i] = river.NewPeriodicJob(riverEvery{env.First(i), env.Every},
			func() (river.JobArgs, *river.InsertOpts) { return riverArgs{Job: i}, nil },
			&river.PeriodicJobOpts{ID: JobID(i)})
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		ID:           node,
		Schema:       env.Schema,
		Logger:       warnLogger(),
		PeriodicJobs: periodic,
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: or(env.Options.RiverWorkers, 100)}},
		Workers:      workers,
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &riverReplica{pool: pool, client: client}, nil
}

func (r *riverReplica) Start(ctx context.Context) error { return r.client.Start(ctx) }

func (r *riverReplica) Stop(ctx context.Context) error {
	err := r.client.Stop(ctx)
	r.pool.Close()
	return err
}

func riverLeader(ctx context.Context, env *Env) (string, error) {
	conn, err := pgx.Connect(ctx, env.Postgres)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var id string
	err = conn.QueryRow(ctx, fmt.Sprintf("SELECT leader_id FROM %s.river_leader", pgx.Identifier{env.Schema}.Sanitize())).Scan(&id)
	return id, err
}

// dropSchema removes env.Schema and all it holds.
func dropSchema(ctx context.Context, env *Env) error {
	conn, err := pgx.Connect(ctx, env.Postgres)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{env.Schema}.Sanitize()+" CASCADE")
	return err
}

package clusterbench

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/sundialhq/sundial"
)

// sundial on a shared store: every replica runs a Scheduler (NodeID the
// node's name) and declares the same jobs with ConflictReplace, as
// code-declared jobs are; each is Every(every) with Start at the job's
// first fire. Options: a pool of 64 (Options.SundialWorkers), HeartbeatTTL
// 5 s with a heartbeat every second (Options.HeartbeatTTL), and a retry
// policy of 2 attempts (Options.SundialRetries) so a run interrupted by
// the kill runs again; the library's defaults otherwise. The task reads
// the fire's scheduled time and attempt from the Run.
type storeOpener func(ctx context.Context, env *Env) (sundial.Store, io.Closer, error)

const sundialTask = "clusterbench"

func sundialLib(name string, needs []string, open storeOpener, cfg func(*sundial.Config), setup, teardown func(context.Context, *Env) error) Lib {
	return Lib{
		Name:     name,
		Needs:    needs,
		Setup:    setup,
		Teardown: teardown,
		NewReplica: func(ctx context.Context, env *Env, node string, rec *Recorder) (Replica, error) {
			return newSundialReplica(ctx, env, node, rec, open, cfg)
		},
	}
}

type sundialReplica struct {
	s     *sundial.Scheduler
	store io.Closer
}

func newSundialReplica(ctx context.Context, env *Env, node string, rec *Recorder, open storeOpener, tune func(*sundial.Config)) (Replica, error) {
	st, closer, err := open(ctx, env)
	if err != nil {
		return nil, err
	}
	ttl := or(env.Options.HeartbeatTTL, 5*time.Second)
	cfg := sundial.Config{
		Store:             st,
		NodeID:            node,
		Logger:            warnLogger(),
		Executors:         map[string]int{"default": or(env.Options.SundialWorkers, 64)},
		HeartbeatTTL:      ttl,
		HeartbeatInterval: ttl / 5,
		JobLease:          env.Options.JobLease,
		ClaimAhead:        env.Options.ClaimAhead,
		LocalEvents:       env.Options.SundialLocalEvents,
	}
	if tune != nil {
		tune(&cfg)
	}
	s, err := sundial.New(cfg)
	if err == nil {
		err = s.Handle(sundialTask, func(ctx context.Context, r *sundial.Run) error {
			rec.Record(jobIndex(r.JobID), r.Scheduled, r.Attempt)
			return nil
		})
	}
	if err == nil {
		err = declareSundial(ctx, s, env)
	}
	if err != nil {
		closer.Close()
		return nil, err
	}
	return &sundialReplica{s: s, store: closer}, nil
}

func declareSundial(ctx context.Context, s *sundial.Scheduler, env *Env) error {
	retry := sundial.RetryPolicy{Attempts: or(env.Options.SundialRetries, 2), Backoff: time.Millisecond}
	jobs := make([]*sundial.Job, env.Jobs)
	for i := range jobs {
		trig, err := sundial.Every(env.Every, &sundial.IntervalOptions{Start: env.First(i)})
		if err != nil {
			return err
		}
		jobs[i] = &sundial.Job{ID: JobID(i), Task: sundialTask, Trigger: trig, Retry: retry}
	}
	// One batch per 1,000 jobs: one store call each, as a service
	// declaring its jobs on start would.
	for len(jobs) > 0 {
		n := min(len(jobs), 1000)
		if _, err := s.AddJobs(ctx, jobs[:n], &sundial.AddOptions{OnConflict: sundial.ConflictReplace}); err != nil {
			return err
		}
		jobs = jobs[n:]
	}
	return nil
}

func (r *sundialReplica) Start(ctx context.Context) error { return r.s.Start(ctx) }

func (r *sundialReplica) Stop(ctx context.Context) error {
	_, err := r.s.Shutdown(ctx)
	if cerr := r.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// warnLogger logs warnings and errors to the replica's log.
func warnLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

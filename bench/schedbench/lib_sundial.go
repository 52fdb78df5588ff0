package schedbench

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sundialhq/sundial"
)

// sundialSched uses sundial as its README shows: New with a Config (memory
// store, the defaults otherwise), one task registered with Handle, one job
// per schedule added with AddJob, Start and Shutdown.
type sundialSched struct {
	s                          *sundial.Scheduler
	missed, skipped, instances atomic.Int64
}

const sundialTask = "bench"

func newSundial(task Task, opts Options) (Scheduler, error) {
	cfg := sundial.Config{NodeID: "bench"}
	if opts.SundialWorkers > 0 {
		cfg.Executors = map[string]int{"default": opts.SundialWorkers}
	}
	s, err := sundial.New(cfg)
	if err != nil {
		return nil, err
	}
	a := &sundialSched{s: s}
	err = s.Handle(sundialTask, func(ctx context.Context, r *sundial.Run) error {
		task(jobIndex(r.JobID), r.Scheduled)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Subscribe(sundial.EventJobMissed|sundial.EventJobSkipped|sundial.EventJobMaxInstances, func(e sundial.Event) {
		switch e.Type {
		case sundial.EventJobMissed:
			a.missed.Add(1)
		case sundial.EventJobSkipped:
			a.skipped.Add(1)
		case sundial.EventJobMaxInstances:
			a.instances.Add(1)
		}
	})
	return a, nil
}

func (a *sundialSched) Name() string { return "sundial" }

func (a *sundialSched) AddInterval(job int, every time.Duration, start time.Time) error {
	trig, err := sundial.Every(every, &sundial.IntervalOptions{Start: start})
	if err != nil {
		return err
	}
	_, err = a.s.AddJob(context.Background(), &sundial.Job{ID: JobID(job), Task: sundialTask, Trigger: trig}, nil)
	return err
}

func (a *sundialSched) AddOnce(job int, at time.Time) error {
	trig, err := sundial.At(at, nil)
	if err != nil {
		return err
	}
	_, err = a.s.AddJob(context.Background(), &sundial.Job{ID: JobID(job), Task: sundialTask, Trigger: trig}, nil)
	return err
}

func (a *sundialSched) Start() error { return a.s.Start(context.Background()) }

func (a *sundialSched) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := a.s.Shutdown(ctx)
	return err
}

func (a *sundialSched) Misses() map[string]int64 {
	return map[string]int64{"job_missed": a.missed.Load(), "job_skipped": a.skipped.Load(), "job_max_instances": a.instances.Load()}
}

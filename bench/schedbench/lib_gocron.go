package schedbench

import (
	"time"

	"github.com/go-co-op/gocron/v2"
)

// gocronSched uses gocron v2 with its defaults (gocron.NewScheduler()):
// DurationJob for an interval, with WithStartAt(WithStartDateTime(start))
// when a start is given, OneTimeJob(OneTimeJobStartDateTime(at)) for a
// one-off, the job named with WithName, the task a gocron.NewTask closure.
// Jobs are added before Start. Its tasks are not told their scheduled
// time.
type gocronSched struct {
	s    gocron.Scheduler
	task Task
}

func newGocron(task Task, _ Options) (Scheduler, error) {
	s, err := gocron.NewScheduler()
	if err != nil {
		return nil, err
	}
	return &gocronSched{s: s, task: task}, nil
}

func (a *gocronSched) Name() string { return "gocron" }

func (a *gocronSched) AddInterval(job int, every time.Duration, start time.Time) error {
	opts := []gocron.JobOption{gocron.WithName(JobID(job))}
	if !start.IsZero() {
		opts = append(opts, gocron.WithStartAt(gocron.WithStartDateTime(start)))
	}
	_, err := a.s.NewJob(gocron.DurationJob(every), gocron.NewTask(func() { a.task(job, time.Time{}) }), opts...)
	return err
}

func (a *gocronSched) AddOnce(job int, at time.Time) error {
	_, err := a.s.NewJob(gocron.OneTimeJob(gocron.OneTimeJobStartDateTime(at)),
		gocron.NewTask(func() { a.task(job, time.Time{}) }), gocron.WithName(JobID(job)))
	return err
}

func (a *gocronSched) Start() error { a.s.Start(); return nil }

func (a *gocronSched) Stop() error { return a.s.Shutdown() }

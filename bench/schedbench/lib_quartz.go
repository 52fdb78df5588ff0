package schedbench

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/reugn/go-quartz/job"
	"github.com/reugn/go-quartz/quartz"
)

// quartzSched uses go-quartz's StdScheduler with its defaults (a goroutine
// per run, a 100 ms outdated threshold) plus WithJobMetadata, so tasks see
// their scheduled time, and WithMisfiredChan, so fires it drops as outdated
// are counted. Jobs are job.NewFunctionJob closures with a JobKey named
// after the job, scheduled with ScheduleJob before Start. An interval
// without a start is a SimpleTrigger (first fire one interval after
// ScheduleJob); go-quartz has no start time and its RunOnceTrigger takes a
// delay, so an anchored interval and a one-off are small implementations
// of its quartz.Trigger interface, which ScheduleJob takes for custom
// triggers.
type quartzSched struct {
	s      quartz.Scheduler
	task   Task
	misses atomic.Int64
}

func newQuartz(task Task, _ Options) (Scheduler, error) {
	misfired := make(chan quartz.ScheduledJob, 1<<16)
	s, err := quartz.NewStdScheduler(quartz.WithJobMetadata(), quartz.WithMisfiredChan(misfired))
	if err != nil {
		return nil, err
	}
	a := &quartzSched{s: s, task: task}
	go func() {
		for range misfired {
			a.misses.Add(1)
		}
	}()
	return a, nil
}

func (a *quartzSched) Name() string { return "quartz" }

func (a *quartzSched) jobDetail(n int) *quartz.JobDetail {
	fn := job.NewFunctionJob(func(ctx context.Context) (struct{}, error) {
		var scheduled time.Time
		if md, ok := ctx.Value(quartz.JobMetadataContextKey).(quartz.JobMetadata); ok {
			scheduled = time.Unix(0, md.RunTime)
		}
		a.task(n, scheduled)
		return struct{}{}, nil
	})
	return quartz.NewJobDetail(fn, quartz.NewJobKey(JobID(n)))
}

func (a *quartzSched) AddInterval(n int, every time.Duration, start time.Time) error {
	var trig quartz.Trigger = quartz.NewSimpleTrigger(every)
	if !start.IsZero() {
		trig = &quartzAnchored{start: start.UnixNano(), every: int64(every)}
	}
	return a.s.ScheduleJob(a.jobDetail(n), trig)
}

func (a *quartzSched) AddOnce(n int, at time.Time) error {
	return a.s.ScheduleJob(a.jobDetail(n), &quartzOnce{at: at.UnixNano()})
}

func (a *quartzSched) Start() error { a.s.Start(context.Background()); return nil }

func (a *quartzSched) Stop() error {
	a.s.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a.s.Wait(ctx)
	return ctx.Err()
}

func (a *quartzSched) Misses() map[string]int64 {
	return map[string]int64{"outdated": a.misses.Load()}
}

// quartzAnchored fires at start, start+every, ... (quartz.Trigger).
type quartzAnchored struct{ start, every int64 }

func (t *quartzAnchored) NextFireTime(prev int64) (int64, error) {
	if prev < t.start {
		return t.start, nil
	}
	return t.start + ((prev-t.start)/t.every+1)*t.every, nil
}

func (t *quartzAnchored) Description() string { return "Anchored" }

// quartzOnce fires once at at (quartz.Trigger).
type quartzOnce struct{ at int64 }

func (t *quartzOnce) NextFireTime(prev int64) (int64, error) {
	if prev < t.at {
		return t.at, nil
	}
	return 0, quartz.ErrTriggerExpired
}

func (t *quartzOnce) Description() string { return "Once" }

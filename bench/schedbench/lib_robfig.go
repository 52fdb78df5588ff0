package schedbench

import (
	"context"
	"time"

	robfig "github.com/robfig/cron/v3"
)

// robfigSched uses robfig/cron v3 with its defaults (cron.New()): jobs are
// cron.FuncJob closures added with Cron.Schedule before Start, so each
// runs in a goroutine of its own when due. An interval without a start is
// cron.Every (what "@every" parses to); robfig has no start time, so an
// anchored interval and a one-off are small implementations of its
// cron.Schedule interface, which Cron.Schedule takes for custom schedules.
// Its tasks are not told their scheduled time.
type robfigSched struct {
	c    *robfig.Cron
	task Task
}

func newRobfig(task Task, _ Options) (Scheduler, error) {
	return &robfigSched{c: robfig.New(), task: task}, nil
}

func (a *robfigSched) Name() string { return "robfig" }

func (a *robfigSched) AddInterval(job int, every time.Duration, start time.Time) error {
	var s robfig.Schedule = robfig.Every(every)
	if !start.IsZero() {
		s = anchoredSchedule{start: start, every: every}
	}
	a.c.Schedule(s, robfig.FuncJob(func() { a.task(job, time.Time{}) }))
	return nil
}

func (a *robfigSched) AddOnce(job int, at time.Time) error {
	a.c.Schedule(onceSchedule{at: at}, robfig.FuncJob(func() { a.task(job, time.Time{}) }))
	return nil
}

func (a *robfigSched) Start() error { a.c.Start(); return nil }

func (a *robfigSched) Stop() error {
	ctx := a.c.Stop()
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(30 * time.Second):
		return context.DeadlineExceeded
	}
}

// anchoredSchedule fires at start, start+every, ... (robfig.Schedule).
type anchoredSchedule struct {
	start time.Time
	every time.Duration
}

func (s anchoredSchedule) Next(t time.Time) time.Time {
	if t.Before(s.start) {
		return s.start
	}
	return s.start.Add((t.Sub(s.start)/s.every + 1) * s.every)
}

// onceSchedule fires once at at (robfig.Schedule); the zero Time tells
// robfig the entry never runs again.
type onceSchedule struct{ at time.Time }

func (s onceSchedule) Next(t time.Time) time.Time {
	if t.Before(s.at) {
		return s.at
	}
	return time.Time{}
}

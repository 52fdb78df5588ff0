// Package schedbench runs sundial's scheduler side by side with
// robfig/cron v3, go-co-op/gocron v2 and reugn/go-quartz, through one small
// adapter per library, on three scenarios: many idle interval jobs (heap,
// registration time, idle CPU), many jobs firing every second (throughput,
// missed fires, lateness, CPU), and many one-off jobs due at the same
// instant (time until the last one starts).
//
// Each scenario is meant to run in a process of its own (the schedtable
// command re-executes itself once per library and scenario), so heaps and
// CPU time do not mix.
package schedbench

import (
	"fmt"
	"strconv"
	"time"
)

// Task is what every job runs: job is the index the job was added with,
// scheduled the fire's scheduled time when the library tells the task (the
// zero Time when it does not).
type Task func(job int, scheduled time.Time)

// Scheduler is one library behind a common face. Jobs are added before
// Start, as each library's documentation shows.
type Scheduler interface {
	Name() string
	// AddInterval adds job number job (ID JobID(job)) firing every every,
	// first at start; a zero start leaves the first fire to the library
	// (one interval after it is added or started).
	AddInterval(job int, every time.Duration, start time.Time) error
	// AddOnce adds job number job, firing once at at.
	AddOnce(job int, at time.Time) error
	Start() error
	// Stop stops the scheduler and waits for running tasks.
	Stop() error
}

// MissCounter is implemented by adapters whose library reports fires it
// did not run: sundial's missed, skipped and max-instances events,
// go-quartz's misfire channel. Misses counts them by kind.
type MissCounter interface {
	Misses() map[string]int64
}

// Options tune the adapters.
type Options struct {
	// SundialWorkers sizes sundial's default pool; zero keeps the
	// library's default (10).
	SundialWorkers int
}

// Lib names a library and makes its adapter.
type Lib struct {
	Name string
	// ReportsScheduled is true when the task receives the fire's scheduled
	// time from the library; otherwise the harness derives it from the
	// job's start and the number of fires so far.
	ReportsScheduled bool
	New              func(task Task, opts Options) (Scheduler, error)
}

// Libs are the libraries compared, sundial first.
var Libs = []Lib{
	{Name: "sundial", ReportsScheduled: true, New: newSundial},
	{Name: "robfig", New: newRobfig},
	{Name: "gocron", New: newGocron},
	{Name: "quartz", ReportsScheduled: true, New: newQuartz},
}

// LibNamed returns the library called name.
func LibNamed(name string) (Lib, error) {
	for _, l := range Libs {
		if l.Name == name {
			return l, nil
		}
	}
	return Lib{}, fmt.Errorf("schedbench: no library %q", name)
}

// JobID is the ID of job number i, for the libraries that take one.
func JobID(i int) string {
	const width = 7
	s := strconv.Itoa(i)
	b := make([]byte, 0, 4+width)
	b = append(b, "job-"...)
	for range width - len(s) {
		b = append(b, '0')
	}
	return string(append(b, s...))
}

// jobIndex reverses JobID.
func jobIndex(id string) int {
	n, err := strconv.Atoi(id[len("job-"):])
	if err != nil {
		return -1
	}
	return n
}

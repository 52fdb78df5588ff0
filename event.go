package sundial

import (
	"strings"
	"time"
)

// EventType is a bit in a mask of event types, as APScheduler's: subscribe
// to several with |.
type EventType uint64

// The event types.
const (
	EventSchedulerStarted EventType = 1 << iota
	EventSchedulerShutdown
	EventSchedulerPaused
	EventSchedulerResumed
	EventExecutorAdded
	EventExecutorRemoved
	EventStoreAdded
	EventStoreRemoved
	EventAllJobsRemoved
	EventJobAdded
	EventJobRemoved
	EventJobModified
	EventJobSubmitted    // a fire became a pending run
	EventJobExecuted     // a run succeeded
	EventJobError        // a run failed (error or panic)
	EventJobMissed       // a fire was later than its misfire grace time
	EventJobMaxInstances // a fire was skipped because MaxInstances runs were active
	EventJobSkipped      // a fire was folded away by coalescing
	EventRunStarted
	EventRunRetrying
	EventRunInterrupted
	EventRunSlow
	EventNodeJoined
	EventNodeLost
	EventTaskMissing // a stored job names a task this process has not registered

	// EventAll matches every event type.
	EventAll EventType = 1<<iota - 1
)

var eventNames = []string{
	"scheduler_started", "scheduler_shutdown", "scheduler_paused", "scheduler_resumed",
	"executor_added", "executor_removed", "store_added", "store_removed", "all_jobs_removed",
	"job_added", "job_removed", "job_modified", "job_submitted", "job_executed", "job_error",
	"job_missed", "job_max_instances", "job_skipped", "run_started", "run_retrying",
	"run_interrupted", "run_slow", "node_joined", "node_lost", "task_missing",
}

// String returns the snake_case names of the types in the mask, joined
// with "|".
func (t EventType) String() string {
	var parts []string
	for i, n := range eventNames {
		if t&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// Event is something that happened, delivered to subscribers. Fields that
// do not apply to the type are zero.
type Event struct {
	Type      EventType
	Time      time.Time // when it happened, on the scheduler's clock
	Node      string    // the node it happened on
	JobID     string
	RunID     string
	Scheduled time.Time     // the fire's scheduled time
	Attempt   int           //
	Duration  time.Duration // how long the run took (or has taken, for EventRunSlow)
	Err       string        // the error, for failures
	Stack     string        // the panic's stack trace
	Subject   string        // what a node, task, executor or store event is about: the node lost, the task missing, the pool, the store type
	Run       *Run          // the run, where one applies (a copy)
	Job       *Job          // the job, for job events (a copy)
	// Remote is set on an event that happened on another node and reached
	// this one through the store (an [EventBus]).
	Remote bool
}

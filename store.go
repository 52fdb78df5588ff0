package sundial

import (
	"context"
	"time"
)

// Store keeps jobs and runs and arbitrates between the nodes that share it.
// Every guarantee of DESIGN.md rests on a Store: a fire turns into at most
// one run (the (job, scheduled time, attempt) key), creating runs and
// advancing a job's next fire are one atomic step, and claims are leases
// that expire on the store's clock.
//
// The memory store ([NewMemoryStore]) is the default and the reference
// implementation; store/sqlitestore, store/pgstore and store/redisstore
// persist, and every store passes store/storetest's conformance suite.
//
// Methods take now from the caller's clock (so tests can pin time) except
// where a store documents that it measures leases on its own clock. Errors
// match ErrNotFound, ErrConflict or ErrInvalid where those apply; stores
// never leak their client library's error types.
type Store interface {
	// AddJob stores a new job. When a job with its ID exists, policy
	// decides: replace it (keeping its NextFire when the trigger is
	// unchanged and job.NextFire is zero), keep it (returning the stored
	// job), or fail with ErrConflict. The job's NextFire must already be
	// computed by the caller. Returns the stored job.
	AddJob(ctx context.Context, job *Job, policy ConflictPolicy, now time.Time) (*Job, error)
	// GetJob returns the job with the given ID, or ErrNotFound.
	GetJob(ctx context.Context, id string) (*Job, error)
	// ListJobs returns the jobs that match f, ordered by ID.
	ListJobs(ctx context.Context, f JobFilter) ([]*Job, error)
	// UpdateJob replaces a stored job if its Version matches the stored
	// one (else ErrConflict; ErrNotFound if gone) and returns it with the
	// new Version.
	UpdateJob(ctx context.Context, job *Job, now time.Time) (*Job, error)
	// RemoveJob deletes a job (its history stays), or returns ErrNotFound.
	RemoveJob(ctx context.Context, id string) error
	// RemoveAllJobs deletes every job and returns how many there were.
	RemoveAllJobs(ctx context.Context) (int, error)

	// NextFireTime returns the earliest NextFire among unpaused jobs
	// (claimed or not), or the zero Time when there is none. The schedule
	// loop sleeps until then or until a notice.
	NextFireTime(ctx context.Context) (time.Time, error)
	// ClaimDueJobs leases up to c.Limit unpaused jobs whose NextFire is at
	// or before c.Horizon and that no live claim holds, for c.Lease, to
	// c.Node. Each comes with its active run counts and a claim token.
	ClaimDueJobs(ctx context.Context, c JobClaim) ([]DueJob, error)
	// CommitFires applies the schedule loop's decisions, each atomically
	// per job: insert its runs (those whose key exists are dropped, not an
	// error), request cancellation of runs, set its next fire, release the
	// claim. A commit whose token no longer holds the job's claim is
	// refused for that job only, and reported in the result.
	CommitFires(ctx context.Context, commits []FireCommit, now time.Time) ([]CommitResult, error)
	// AddRuns inserts runs that no trigger produced (run now, backfill,
	// retries after recovery); runs whose key exists are dropped. Returns
	// the runs inserted.
	AddRuns(ctx context.Context, runs []*Run) ([]*Run, error)

	// ClaimRuns starts up to c.Limit[executor] pending runs whose Due is
	// at or before c.Horizon, oldest Due first, for c.Node: each becomes
	// running with Started = c.Now, a fresh fencing token, and Node set.
	// A run is claimed only while its job has fewer than its MaxInstances
	// runs running, cluster-wide. Runs of removed jobs still run.
	ClaimRuns(ctx context.Context, c RunClaim) ([]*Run, error)
	// FinishRun records a running run's end (State, Finished, Error,
	// Stack, Reason, and Started: zero when the task never began) and,
	// atomically with it, inserts retry (the next attempt) when not nil.
	// It fails with ErrConflict when the run is no longer running on
	// run.Node (it was recovered as interrupted meanwhile).
	FinishRun(ctx context.Context, run *Run, retry *Run) error
	// GetRun returns a run by ID, or ErrNotFound.
	GetRun(ctx context.Context, id string) (*Run, error)
	// ListRuns returns the runs that match f, newest Scheduled first.
	ListRuns(ctx context.Context, f RunFilter) ([]*Run, error)
	// PruneRuns deletes finished runs beyond the retention policy and
	// returns how many.
	PruneRuns(ctx context.Context, r Retention, now time.Time) (int, error)

	// Heartbeat records that node is alive (until now + its TTL on the
	// store's clock) and returns the IDs of its running runs that it must
	// cancel: ones with a cancellation request, and ones the store no
	// longer counts as its own.
	Heartbeat(ctx context.Context, node NodeInfo, now time.Time) (Heartbeat, error)
	// RecoverRuns marks running runs of nodes whose heartbeat expired as
	// interrupted, inserting their retries when the job's policy allows,
	// and returns the interrupted runs and the lost nodes.
	RecoverRuns(ctx context.Context, now time.Time) (Recovery, error)
}

// JobFilter selects jobs. Zero fields match everything.
type JobFilter struct {
	Tag    string // jobs carrying this tag
	Task   string // jobs of this task
	Paused *bool  // paused or active jobs only
	After  string // jobs whose ID sorts after this (pagination)
	Limit  int    // at most this many; zero means no limit
}

// JobClaim asks for due jobs.
type JobClaim struct {
	Node    string
	Now     time.Time
	Horizon time.Time // claim jobs due at or before this (Now plus a lookahead)
	Lease   time.Duration
	Limit   int
}

// DueJob is a claimed job with what the fire decision needs.
type DueJob struct {
	Job     *Job
	Running []*Run // its runs running now, cluster-wide, oldest first
	Pending int    // its runs waiting to start
	// PendingDue is the earliest Due among its pending runs (zero when
	// none): a fire decided ahead of time counts pending runs against
	// MaxInstances only once they are overdue, behind a running run.
	PendingDue time.Time
	// Unconfirmed counts the runs of Running held by another node (not
	// JobClaim.Node) that has not heartbeated since it started them, or
	// whose heartbeat comes from a later start of the node. Until that
	// node's heartbeat expires nobody can tell whether it died holding
	// them, so they are no evidence that the job is busy.
	Unconfirmed int
	// Lapsed is when the job's previous claim ran out without a commit
	// (its node died, or lost the store's answer, in mid-round), if the
	// job has not been committed since; zero otherwise. No node could
	// decide the fires due until then on time, so they are neither
	// coalesced nor skipped for it.
	Lapsed time.Time
	Token  int64 // the claim; CommitFires presents it

	slot int32 // the memory store's: the job's slot plus one (FireCommit.slot)
}

// AddRunning appends r to d.Running, and counts it in d.Unconfirmed when
// it is not claimer's (JobClaim.Node) and its node's last heartbeat does
// not confirm it: seen is when that heartbeat came and nodeStarted the
// start of the node that sent it (both zero when the node has none), and
// it confirms r when it came after r started, from the start of the node
// that started r. It serves stores answering ClaimDueJobs.
func (d *DueJob) AddRunning(r *Run, seen, nodeStarted time.Time, claimer string) {
	d.Running = append(d.Running, r)
	confirmed := !seen.IsZero() && !seen.Before(r.Started) && !nodeStarted.After(r.Started)
	if !confirmed && r.Node != claimer {
		d.Unconfirmed++
	}
}

// FireCommit is the schedule loop's decision for one claimed job.
type FireCommit struct {
	JobID    string
	Token    int64
	Runs     []*Run    // pending runs, and missed/skipped records
	Cancel   []string  // IDs of running runs to cancel (OverlapCancelRunning)
	NextFire time.Time // zero: the job will not fire again

	// slot is DueJob.slot, copied from the claim: the memory store's
	// hint to where the job is, which it trusts only while the claim
	// holds (commitSlot).
	slot int32
}

// CommitResult reports one FireCommit.
type CommitResult struct {
	JobID    string
	Inserted []*Run // the runs actually created (duplicates dropped)
	Lost     bool   // the claim was lost: nothing was applied
}

// RunClaim asks for pending runs to start.
type RunClaim struct {
	Node    string
	Now     time.Time
	Horizon time.Time      // runs due at or before this (Now plus a lookahead)
	Limit   map[string]int // free slots per executor name
}

// RunFilter selects runs. Zero fields match everything.
type RunFilter struct {
	JobID  string
	States []RunState
	From   time.Time // Scheduled at or after
	To     time.Time // Scheduled before
	Before string    // pagination: runs that sort after the run with this ID
	Limit  int       // zero means 100

	// Node selects the runs held or last run by this node (Run.Node).
	Node string
	// StartedBefore selects the runs whose Started is before it: for a
	// running run, when its node claimed it. A run never started does not
	// match.
	StartedBefore time.Time
}

// Retention bounds the history of finished runs.
type Retention struct {
	MaxAge     time.Duration // delete runs finished longer ago; zero keeps all
	KeepPerJob int           // keep at most this many per job, newest; zero keeps all
}

// Role is what a node does.
type Role uint8

const (
	// RoleAll schedules and executes (the default).
	RoleAll Role = iota
	// RoleScheduler turns due fires into runs but executes nothing.
	RoleScheduler
	// RoleWorker executes runs but does not schedule.
	RoleWorker
	// RoleClient only reads and edits jobs.
	RoleClient
)

var roleNames = []string{"all", "scheduler", "worker", "client"}

// String returns "all", "scheduler", "worker" or "client".
func (r Role) String() string { return enumName(roleNames, int(r)) }

// ParseRole reads a role name; "" and "both" mean all.
func ParseRole(s string) (Role, error) {
	if s == "both" {
		return RoleAll, nil
	}
	i, err := parseEnum("role", roleNames, s)
	return Role(i), err
}

// NodeInfo describes a node in a heartbeat.
type NodeInfo struct {
	ID      string
	Role    Role
	Started time.Time
	TTL     time.Duration // the node counts as lost after this without a heartbeat
	Running []string      // IDs of the runs it is executing
}

// Heartbeat is a store's answer to a node's heartbeat.
type Heartbeat struct {
	Cancel []string // runs the node must cancel
	// PeerExpiry is the earliest time another node's heartbeat expires,
	// zero if no other node heartbeats (or the store does not say). The
	// scheduler looks for lost nodes then, not only at its own next
	// heartbeat, so a dead node's runs are recovered as soon as its
	// heartbeat TTL has passed.
	PeerExpiry time.Time
}

// Recovery reports what RecoverRuns did.
type Recovery struct {
	Interrupted []*Run
	Retries     []*Run
	LostNodes   []string
}

// RunFinisher is implemented by stores that record many run ends in one
// step. The worker writes the runs that end together with it, in one
// round trip (for SQLite, one transaction and one disk flush) instead of
// one each; it checks for it with a type assertion.
type RunFinisher interface {
	// FinishRuns does what FinishRun does for each end, atomically per
	// end, and returns one error per end, in order: nil where it was
	// recorded, else what FinishRun would have returned.
	FinishRuns(ctx context.Context, ends []RunEnd) []error
}

// RunEnd is one run's end for FinishRuns: the ended run and, when the
// job allows another attempt, its retry.
type RunEnd struct {
	Run, Retry *Run
}

// Notifier is implemented by stores that push notices of changes, so a
// job added on one node fires on time on another. The scheduler checks for
// it with a type assertion and otherwise polls.
type Notifier interface {
	// Subscribe calls fn for every notice until the returned function is
	// called. fn must not block.
	Subscribe(fn func(Notice)) (unsubscribe func())
}

// NoticeKind says what changed.
type NoticeKind uint8

const (
	NoticeJobsChanged NoticeKind = iota + 1 // jobs added, changed or removed: recompute the next wake-up
	NoticeRunsCreated                       // pending runs exist: workers should claim
	NoticeRunFinished                       // a run ended: a slot may be free
)

// Notice is a change published by a Notifier store.
type Notice struct {
	Kind     NoticeKind
	JobID    string
	NextFire time.Time // for NoticeJobsChanged: the job's next fire, if known
}

// EventBus is implemented by stores that carry events between the nodes
// sharing them, so a subscriber on one node sees what every node did: a
// dashboard on node A sees the runs executed on node B. The scheduler
// checks for it with a type assertion; it publishes its own events in
// batches, encoded with [EncodeEvents], and delivers other nodes' events
// to its subscribers with Event.Remote set. Delivery is best effort: an
// event published while a node's connection is down is not replayed (the
// history in the store is the record; events are notifications).
type EventBus interface {
	// PublishEvents sends a batch of events, encoded by EncodeEvents, to
	// every node subscribed, this one included.
	PublishEvents(ctx context.Context, batch []byte) error
	// SubscribeEvents calls fn with every batch published by any node
	// until the returned function is called. fn must not block.
	SubscribeEvents(fn func(batch []byte)) (unsubscribe func())
}

// NoticeHealth is implemented by Notifier stores whose notices can stop
// for a while, such as a PostgreSQL listener whose connection dropped.
// While NoticesLive reports false the scheduler polls the store every
// Config.PollInterval instead of waiting for notices. A store sends
// NoticeJobsChanged when its notices stop, so a loop asleep until its
// next fire wakes and starts polling, and NoticeJobsChanged and
// NoticeRunsCreated when they resume, so the loops look at what changed
// while it was deaf.
type NoticeHealth interface {
	NoticesLive() bool
}

// StoreClock is implemented by stores shared by several nodes that can
// tell the time on the store's own clock (now() in PostgreSQL, TIME in
// Redis). The scheduler reads it at start and at every heartbeat, and
// runs on its own clock corrected by the measured offset, so that leases,
// heartbeats and fire decisions agree across nodes whose clocks differ.
// A store should also refuse, on its own clock, to take a lease or count
// a node lost early: a node whose clock jumped between two readings then
// still takes nothing that is not free.
type StoreClock interface {
	StoreNow(ctx context.Context) (time.Time, error)
}

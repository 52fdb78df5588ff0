package sundial

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// MemoryConfig tunes a MemoryStore. The zero value is ready to use.
type MemoryConfig struct {
	// MaxRunsPerJob bounds the finished runs kept per job, oldest dropped
	// first. Zero means 100.
	MaxRunsPerJob int
	// MaxRuns bounds the finished runs kept in all, oldest dropped first.
	// Zero means 100,000. Pending and running runs are never dropped.
	MaxRuns int
}

// MemoryStore is the in-memory Store: the library's default and the
// reference implementation of the Store contract, with heaps and maps where
// a database has tables and indexes. It keeps nothing across restarts. It
// is safe for concurrent use, including by several schedulers in one
// process (they arbitrate through it exactly as nodes do through a
// database). It implements Notifier.
type MemoryStore struct {
	cfg MemoryConfig

	mu       sync.Mutex
	jobs     jobTable
	due      timeHeap[int32]     // slots of unpaused, unclaimed jobs with a next fire
	claimed  timeHeap[*memExtra] // claimed jobs, by lease expiry
	claimSeq int64

	runs      map[string]*memRun            // pending and running runs, by ID
	pending   map[string]*timeHeap[*memRun] // per executor, by Due
	byJob     map[string]*jobRuns           // per job ID, while it has runs
	fence     int64                         // the last fencing token given
	running   []*memRun                     // every running run, in no order
	done      runArchive                    // finished runs (memstore_archive.go)
	spareRuns []*memRun                     // records to reuse (recycle)
	spareJobs []*Job                        // for claims to unpack into (releaseDue)
	dueBuf    []DueJob                      // a released claim's array, for the next claim
	spareOut  []*Run                        // for claims to copy runs into (takeRuns)
	nodes     map[string]memNode            // node ID → its last heartbeat

	// The triggers of released claims' jobs, for claims to unpack into
	// (releaseDue), like spareJobs.
	spareIntervals []*IntervalTrigger
	spareDates     []*DateTrigger

	hash    idHash                   // the job table's and the run archive's
	warmIdx atomic.Pointer[[]uint64] // the job index's entries, for warmJob, which holds no lock
	locs    locTable                 // the time zones of packed jobs
	scratch []byte                   // pack's buffer

	subs   map[int]func(Notice)
	subSeq int
}

type memRun struct {
	run    *Run
	of     *jobRuns // its job's runs
	idx    int32    // in its executor's pending heap
	at     int32    // in the store's running, while running
	cancel bool     // cancellation requested (OverlapCancelRunning)
}

// jobRuns is a job's runs by state, found once per run (memRun.of)
// instead of once per state change. Its strings are the job's own
// copies, which the runs it keeps share: a run built from an unpacked job
// holds substrings of the whole packed job, and a history of such runs
// would keep a copy of the job, arguments and metadata included, per run.
type jobRuns struct {
	pending  []*memRun // in insertion order
	running  []*memRun // oldest first
	history  []int32   // finished, oldest first: slots of the archive
	jobID    string
	task     string // the last run's
	executor string // the last run's

	// live holds the fire keys of the runs in pending and running, only
	// while there are more than liveScan of them (hasLive).
	live map[fireKey]struct{}

	// The latest Scheduled of the runs inserted since the entry was made,
	// when the job had no runs in the store (math.MinInt64 seconds until
	// one is): no pending, running or archived run of the job has a later
	// fire key.
	latestSec  int64
	latestNsec int32
}

// empty reports whether the job has no runs: evict then drops its entry
// from byJob.
func (jr *jobRuns) empty() bool {
	return len(jr.pending)+len(jr.running)+len(jr.history) == 0
}

// note records that a run of the job is being inserted, for mayHold.
func (jr *jobRuns) note(r *Run) {
	if sec, nsec := r.Scheduled.Unix(), int32(r.Scheduled.Nanosecond()); laterThan(sec, nsec, jr.latestSec, jr.latestNsec) {
		jr.latestSec, jr.latestNsec = sec, nsec
	}
}

// mayHold reports whether a run of the job, pending, running or
// archived, may hold r's fire key: false when r is scheduled after every
// run inserted since the entry was made.
func (jr *jobRuns) mayHold(r *Run) bool {
	return !laterThan(r.Scheduled.Unix(), int32(r.Scheduled.Nanosecond()), jr.latestSec, jr.latestNsec)
}

// laterThan reports whether the instant sec, nsec is after the instant
// sec2, nsec2 (each as time.Time's Unix and Nanosecond).
func laterThan(sec int64, nsec int32, sec2 int64, nsec2 int32) bool {
	return sec > sec2 || sec == sec2 && nsec > nsec2
}

// runsOf returns the job's runs, adding an entry for a job new to them.
func (m *MemoryStore) runsOf(jobID string) *jobRuns {
	jr := m.byJob[jobID]
	if jr == nil {
		jr = &jobRuns{jobID: strings.Clone(jobID), latestSec: math.MinInt64}
		m.byJob[jr.jobID] = jr
	}
	return jr
}

// own points the strings of r, a run of the job the store keeps, at the
// job's copies.
func (jr *jobRuns) own(r *Run) {
	if jr.task != r.Task {
		jr.task = strings.Clone(r.Task)
	}
	if jr.executor != r.Executor {
		jr.executor = strings.Clone(r.Executor)
	}
	r.JobID, r.Task, r.Executor = jr.jobID, jr.task, jr.executor
}

// fireKey identifies a fire's attempt within its job's runs: at most one
// run exists per job and key (the archive's key index holds the finished
// runs' keys, doneKey).
type fireKey struct {
	scheduled int64
	attempt   int
	manual    bool
}

func fireKeyOf(r *Run) fireKey { return fireKey{r.Scheduled.UnixNano(), r.Attempt, r.Manual} }

// liveScan is how many pending and running runs of a job hasLive reads
// one by one; past it a map holds their keys. A job has a run or two
// live, where a map of every live run's key would cost each fire a hash,
// an insert and a delete; a backfill or a queue-all backlog has thousands.
const liveScan = 32

// hasLive reports whether a pending or running run of the job has the
// key k.
func (jr *jobRuns) hasLive(k fireKey) bool {
	if jr.live != nil {
		_, ok := jr.live[k]
		return ok
	}
	for _, rs := range [...][]*memRun{jr.pending, jr.running} {
		for _, mr := range rs {
			if fireKeyOf(mr.run) == k {
				return true
			}
		}
	}
	return false
}

// addLive notes a run just added to pending, building the map of live
// keys once the job has more than liveScan runs live.
func (jr *jobRuns) addLive(r *Run) {
	switch n := len(jr.pending) + len(jr.running); {
	case jr.live != nil:
		jr.live[fireKeyOf(r)] = struct{}{}
	case n > liveScan:
		jr.live = make(map[fireKey]struct{}, 2*n)
		for _, rs := range [...][]*memRun{jr.pending, jr.running} {
			for _, mr := range rs {
				jr.live[fireKeyOf(mr.run)] = struct{}{}
			}
		}
	}
}

// dropLive notes a run just taken out of running, for good, dropping the
// map once the job has half liveScan runs live or fewer.
func (jr *jobRuns) dropLive(r *Run) {
	switch {
	case jr.live == nil:
	case len(jr.pending)+len(jr.running) <= liveScan/2:
		jr.live = nil
	default:
		delete(jr.live, fireKeyOf(r))
	}
}

var (
	_ Store       = (*MemoryStore)(nil)
	_ Notifier    = (*MemoryStore)(nil)
	_ JobAdder    = (*MemoryStore)(nil)
	_ RunFinisher = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore(cfg MemoryConfig) *MemoryStore {
	if cfg.MaxRunsPerJob <= 0 {
		cfg.MaxRunsPerJob = 100
	}
	if cfg.MaxRuns <= 0 {
		cfg.MaxRuns = 100000
	}
	m := &MemoryStore{
		cfg:     cfg,
		claimed: timeHeap[*memExtra]{less: claimsBefore, index: func(e *memExtra) *int32 { return &e.claimIdx }},
		runs:    map[string]*memRun{},
		pending: map[string]*timeHeap[*memRun]{},
		byJob:   map[string]*jobRuns{},
		nodes:   map[string]memNode{},
		subs:    map[int]func(Notice){},
	}
	m.hash.seed = maphash.MakeSeed()
	m.jobs.init(&m.hash, &m.warmIdx)
	m.done.init()
	m.due = timeHeap[int32]{
		less:  func(a, b int32) bool { return m.jobs.slot(a).nextBefore(m.jobs.slot(b)) },
		index: func(s int32) *int32 { return &m.jobs.slot(s).dueIdx },
	}
	return m
}

// Subscribe calls fn for every notice until the returned function is
// called. fn runs after the store's lock is released, on the goroutine
// that made the change; it must not block.
func (m *MemoryStore) Subscribe(fn func(Notice)) (unsubscribe func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subSeq++
	id := m.subSeq
	m.subs[id] = fn
	return func() {
		m.mu.Lock()
		delete(m.subs, id)
		m.mu.Unlock()
	}
}

// unlock releases the lock, then delivers notices.
func (m *MemoryStore) unlock(notices []Notice) {
	if len(notices) == 0 || len(m.subs) == 0 {
		m.mu.Unlock()
		return
	}
	subs := make([]func(Notice), 0, len(m.subs))
	for _, fn := range m.subs {
		subs = append(subs, fn)
	}
	m.mu.Unlock()
	for _, n := range notices {
		for _, fn := range subs {
			fn(n)
		}
	}
}

// AddJob stores a new job or, when one with its ID exists, follows policy.
// It fails with a *FieldError for an invalid job and ErrConflict under
// ConflictError.
func (m *MemoryStore) AddJob(ctx context.Context, job *Job, policy ConflictPolicy, now time.Time) (*Job, error) {
	if err := checkJob(ctx, job); err != nil {
		return nil, err
	}
	j := job.Clone() // the store keeps none of j; the copy is the caller's
	if err := m.addJob(j, policy, now, m.hash.str(j.ID)); err != nil {
		return nil, err
	}
	return j, nil
}

// warmJob starts bringing the job index's entry for id into the cache,
// without the store's lock and without waiting, and returns id's hash for
// addOwnedJob. In a store of a million jobs the entry is a cache miss of
// some hundred nanoseconds, a fifth of a registration; the Scheduler's
// AddJob warms it before checking the job, and finds it in the cache
// once it holds the lock. The index it reads may be one a rehash since
// replaced: the prefetch is then wasted, not wrong.
func (m *MemoryStore) warmJob(id string) uint64 {
	h := m.hash.str(id)
	if p := m.warmIdx.Load(); p != nil {
		e := *p
		prefetch(unsafe.Pointer(&e[home(e, uint32(h))]))
	}
	return h
}

// addOwnedJob is AddJob for a job the caller validated, whose ID hashes
// to hash: the store stamps *job in place, keeping none of it, which
// spares the Scheduler's AddJob a copy per registration.
func (m *MemoryStore) addOwnedJob(ctx context.Context, job *Job, policy ConflictPolicy, now time.Time, hash uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.addJob(job, policy, now, hash)
}

// addJob stores j, whose ID hashes to hash, setting its Created, Updated,
// Version and kept NextFire, or, under ConflictKeepExisting when the ID
// exists, makes *j the stored job.
func (m *MemoryStore) addJob(j *Job, policy ConflictPolicy, now time.Time, hash uint64) error {
	m.mu.Lock()
	at := m.jobs.findHashed(j.ID, hash)
	if at.slot >= 0 && policy != ConflictReplace {
		defer m.mu.Unlock()
		if policy == ConflictError {
			return &conflictError{"job " + j.ID + " already exists"}
		}
		*j = *m.unpack(at.slot)
		return nil
	}
	m.putNewJob(j, now, at)
	m.unlock([]Notice{{Kind: NoticeJobsChanged, JobID: j.ID, NextFire: j.NextFire}})
	return nil
}

// putNewJob stores j, replacing a job with its ID (whose creation time
// and version it continues, and whose next fire it keeps when j has none
// and the trigger is the same), and stamps it; at is where find put j.ID.
// The caller holds m.mu.
func (m *MemoryStore) putNewJob(j *Job, now time.Time, at place) {
	var prev *Job
	if at.slot >= 0 {
		prev = m.unpack(at.slot)
		at = m.dropJob(at)
	}
	j.Stamp(prev, now)
	m.schedule(m.pack(j, at))
}

// AddJobs adds jobs as AddJob does, all or nothing: it fails with a
// *FieldError naming the first invalid job by index ("jobs[2].task"), or
// ErrConflict under ConflictError when an ID exists, and then stores
// nothing. Under ConflictKeepExisting the stored job is returned for an
// ID that exists.
func (m *MemoryStore) AddJobs(ctx context.Context, jobs []*Job, policy ConflictPolicy, now time.Time) ([]*Job, error) {
	own := make([]*Job, len(jobs))
	for i, job := range jobs {
		if err := checkJob(ctx, job); err != nil {
			return nil, indexField(i, err)
		}
		j := *job
		own[i] = &j
	}
	out, err := m.addOwnedJobs(own, policy, now)
	for i, j := range out {
		if j == own[i] {
			out[i] = j.Clone() // the store keeps none of j; the copy is the caller's
		}
	}
	return out, err
}

// addOwnedJobs is AddJobs for validated jobs the caller hands over.
func (m *MemoryStore) addOwnedJobs(jobs []*Job, policy ConflictPolicy, now time.Time) ([]*Job, error) {
	m.mu.Lock()
	seen := make(map[string]int, len(jobs))
	for i, j := range jobs {
		if k, dup := seen[j.ID]; dup {
			m.mu.Unlock()
			return nil, &FieldError{Field: fmt.Sprintf("jobs[%d].id", i), Problem: fmt.Sprintf("%q is also jobs[%d]", j.ID, k)}
		}
		seen[j.ID] = i
		if policy == ConflictError && m.jobs.lookup(j.ID) >= 0 {
			m.mu.Unlock()
			return nil, &conflictError{fmt.Sprintf("jobs[%d]: job %s already exists", i, j.ID)}
		}
	}
	out := make([]*Job, len(jobs))
	notices := make([]Notice, 0, len(jobs))
	for i, j := range jobs {
		at := m.jobs.find(j.ID)
		if at.slot >= 0 && policy == ConflictKeepExisting {
			out[i] = m.unpack(at.slot)
			continue
		}
		m.putNewJob(j, now, at)
		out[i] = j
		notices = append(notices, Notice{Kind: NoticeJobsChanged, JobID: j.ID, NextFire: j.NextFire})
	}
	m.unlock(notices)
	return out, nil
}

func checkJob(ctx context.Context, job *Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return job.Validate()
}

// sameTrigger reports whether two triggers have the same JSON form.
func sameTrigger(a, b Trigger) bool {
	x, err1 := a.MarshalJSON()
	y, err2 := b.MarshalJSON()
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// schedule puts an unclaimed job in the due heap if it can fire.
func (m *MemoryStore) schedule(s int32) {
	mj := m.jobs.slot(s)
	if !m.isClaimed(s) && !mj.paused() && mj.hasNext() && mj.dueIdx < 0 {
		m.due.add(s)
	}
}

func (m *MemoryStore) isClaimed(s int32) bool {
	e := m.jobs.extra(s)
	return e != nil && e.claimToken != 0
}

func claimsBefore(a, b *memExtra) bool { return a.claimUntil.Before(b.claimUntil) }

// release ends a job's claim (already out of the claimed heap) and makes
// it due again if it can fire. lapsed is when the claim ran out without a
// commit, zero for a commit (DueJob.Lapsed).
func (m *MemoryStore) release(s int32, lapsed time.Time) {
	if e := m.jobs.extra(s); e != nil {
		e.claimToken, e.claimNode, e.lapsed, e.claimJob, e.claimRuns = 0, "", lapsed, "", nil
		if e.trig == nil && lapsed.IsZero() {
			m.jobs.dropExtra(s)
		}
	}
	m.schedule(s)
}

// dropJob unindexes the job find put at at, releasing any claim so a
// stale commit is lost, and returns where a new job with its ID goes.
func (m *MemoryStore) dropJob(at place) place {
	s := at.slot
	m.due.remove(s)
	if e := m.jobs.extra(s); e != nil {
		if e.claimIdx >= 0 {
			m.claimed.remove(e)
		}
		e.claimToken, e.claimJob, e.claimRuns = 0, "", nil
	}
	return m.jobs.remove(at)
}

// GetJob returns a copy of the job, or ErrNotFound.
func (m *MemoryStore) GetJob(ctx context.Context, id string) (*Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.jobs.lookup(id)
	if s < 0 {
		return nil, &notFoundError{"job " + id}
	}
	return m.unpack(s), nil
}

// ListJobs returns copies of the jobs matching f, ordered by ID.
func (m *MemoryStore) ListJobs(ctx context.Context, f JobFilter) ([]*Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	type idSlot struct {
		id   string
		slot int32
	}
	ids := make([]idSlot, 0, m.jobs.count())
	for s := range m.jobs.slots.len {
		if !m.jobs.slot(s).live() {
			continue
		}
		if id := m.jobs.idBytes(s); string(id) > f.After {
			ids = append(ids, idSlot{string(id), s})
		}
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a].id < ids[b].id })
	var out []*Job
	for _, is := range ids {
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
		if j := m.unpack(is.slot); f.matches(j) {
			out = append(out, j)
		}
	}
	return out, nil
}

// matches reports whether j passes the filter's field conditions.
func (f JobFilter) matches(j *Job) bool {
	if f.Task != "" && j.Task != f.Task {
		return false
	}
	if f.Paused != nil && j.Paused != *f.Paused {
		return false
	}
	if f.Tag == "" {
		return true
	}
	for _, t := range j.Tags {
		if t == f.Tag {
			return true
		}
	}
	return false
}

// UpdateJob replaces a job whose Version matches the stored one. It fails
// with ErrNotFound, ErrConflict (stale Version) or a *FieldError.
func (m *MemoryStore) UpdateJob(ctx context.Context, job *Job, now time.Time) (*Job, error) {
	if err := checkJob(ctx, job); err != nil {
		return nil, err
	}
	m.mu.Lock()
	at := m.jobs.find(job.ID)
	if at.slot < 0 {
		m.mu.Unlock()
		return nil, &notFoundError{"job " + job.ID}
	}
	old := m.unpack(at.slot)
	if old.Version != job.Version {
		m.mu.Unlock()
		return nil, &conflictError{"job " + job.ID + " was changed meanwhile (version " + itoa64(old.Version) + ", not " + itoa64(job.Version) + ")"}
	}
	j := *job
	j.Created, j.Updated, j.Version = old.Created, now, old.Version+1
	m.schedule(m.pack(&j, m.dropJob(at)))
	m.unlock([]Notice{{Kind: NoticeJobsChanged, JobID: j.ID, NextFire: j.NextFire}})
	return j.Clone(), nil
}

// RemoveJob deletes a job (its runs stay), or returns ErrNotFound.
func (m *MemoryStore) RemoveJob(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	at := m.jobs.find(id)
	if at.slot < 0 {
		m.mu.Unlock()
		return &notFoundError{"job " + id}
	}
	m.dropJob(at)
	m.unlock([]Notice{{Kind: NoticeJobsChanged, JobID: id}})
	return nil
}

// RemoveAllJobs deletes every job and returns how many there were.
func (m *MemoryStore) RemoveAllJobs(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	n := m.jobs.count()
	m.jobs.init(&m.hash, &m.warmIdx) // a claim's commit then finds no job and is lost
	m.due.items, m.claimed.items = nil, nil
	m.unlock([]Notice{{Kind: NoticeJobsChanged}})
	return n, nil
}

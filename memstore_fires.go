package sundial

import (
	"context"
	"slices"
	"time"
)

// NextFireTime returns the earliest next fire among unpaused, unclaimed
// jobs, or the earliest claim expiry if that comes first (a claim that
// expires makes its job due again); the zero Time when there is neither.
func (m *MemoryStore) NextFireTime(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var next time.Time
	if s, ok := m.due.peek(); ok {
		next = m.jobs.slot(s).next(&m.locs)
	}
	if e, ok := m.claimed.peek(); ok && (next.IsZero() || e.claimUntil.Before(next)) {
		next = e.claimUntil
	}
	return next, nil
}

// ClaimDueJobs leases up to c.Limit (zero: 1,000) due jobs to c.Node. Jobs
// whose claims expired are due again first.
func (m *MemoryStore) ClaimDueJobs(ctx context.Context, c JobClaim) ([]DueJob, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.Limit <= 0 {
		c.Limit = 1000
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		e, ok := m.claimed.peek()
		if !ok || e.claimUntil.After(c.Now) {
			break
		}
		m.claimed.pop()
		m.release(e.slot, e.claimUntil)
	}
	out := m.dueBuf // a released claim's array, or nil
	m.dueBuf = nil
	for len(out) < c.Limit {
		s, ok := m.due.peek()
		if !ok || m.jobs.slot(s).nextAfter(c.Horizon) {
			break
		}
		m.due.pop()
		m.claimSeq++
		e := m.jobs.ensureExtra(s)
		e.claimToken, e.claimNode, e.claimUntil = m.claimSeq, c.Node, c.Now.Add(c.Lease)
		m.claimed.add(e)
		j := takeSpare(&m.spareJobs)
		if j == nil {
			j = new(Job)
		}
		jr := m.byJob[string(m.jobs.idBytes(s))]
		j = m.unpackClaimed(j, s, jr)
		e.claimJob, e.claimRuns = j.ID, jr
		d := DueJob{Job: j, Lapsed: e.lapsed, Token: m.claimSeq, slot: s + 1}
		if jr != nil {
			d.Pending, d.PendingDue = len(jr.pending), jr.pendingDue()
			for _, mr := range jr.running {
				r := mr.run.Clone()
				n := m.nodes[r.Node] // zero without a heartbeat
				d.AddRunning(r, n.seen, n.started, c.Node)
			}
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		m.dueBuf = out // kept for the next claim
		return nil, nil
	}
	return out, nil
}

// releaseDue takes back the jobs of a claim whose round is over, their
// interval and date triggers, and its array, for the next claims to
// unpack and append into: a Scheduler's schedule round, which keeps
// nothing of them, hands them back; every fire would allocate a job and
// a trigger otherwise. The runs decided from a job share none of the
// memory that unpacking writes again: a job's strings and arguments are
// the job's own, never rewritten. Every interval and date trigger of a
// claimed job is one that unpacking made, never one the store keeps (pack
// encodes those kinds whole, so no extra holds one).
func (m *MemoryStore) releaseDue(due []DueJob) {
	m.mu.Lock()
	for _, d := range due {
		switch t := d.Job.Trigger.(type) {
		case *IntervalTrigger:
			putSpare(&m.spareIntervals, t)
		case *DateTrigger:
			putSpare(&m.spareDates, t)
		}
		*d.Job = Job{}
		putSpare(&m.spareJobs, d.Job)
	}
	clear(due)
	m.dueBuf = due[:0] // the next claim's, which grows it no more
	m.mu.Unlock()
}

// CommitFires applies each commit atomically per job: runs inserted
// (duplicates of a fire's key dropped), cancellations requested, next fire
// set, claim released. A commit whose token no longer holds the claim is
// reported Lost and changes nothing.
func (m *MemoryStore) CommitFires(ctx context.Context, commits []FireCommit, now time.Time) ([]CommitResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]CommitResult, len(commits))
	var changed, created noticeBatch
	for start := 0; start < len(commits); start += commitSlice {
		// Each commit is atomic on its own; releasing the lock between
		// slices lets workers claim and finish runs during a large batch.
		m.mu.Lock()
		for i := start; i < min(start+commitSlice, len(commits)); i++ {
			c := commits[i]
			out[i] = m.commit(c, now)
			if !out[i].Lost {
				changed.add(c.JobID, c.NextFire)
				if len(out[i].Inserted) > 0 {
					created.add(c.JobID, time.Time{})
				}
			}
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	m.unlock(created.appendTo(changed.appendTo(nil, NoticeJobsChanged), NoticeRunsCreated))
	return out, nil
}

// noticeBatch folds the notices of one kind from many jobs into one: a
// subscriber wakes once per batch, not once per job (a round commits up
// to a thousand).
type noticeBatch struct {
	n     int
	job   string    // the job, when all were about one
	next  time.Time // the earliest next fire
	mixed bool      // jobs differ
}

func (b *noticeBatch) add(job string, next time.Time) {
	switch {
	case b.n == 0:
		b.job = job
	case job != b.job:
		b.mixed = true
	}
	b.n++
	if !next.IsZero() && (b.next.IsZero() || next.Before(b.next)) {
		b.next = next
	}
}

// appendTo appends the batch, if it holds any job, to ns as one notice:
// its job's ID when there was only one, and the earliest next fire.
func (b *noticeBatch) appendTo(ns []Notice, kind NoticeKind) []Notice {
	if b.n == 0 {
		return ns
	}
	n := Notice{Kind: kind, NextFire: b.next}
	if !b.mixed {
		n.JobID = b.job
	}
	return append(ns, n)
}

// commitSlice is how many commits CommitFires applies per hold of the lock.
const commitSlice = 64

func (m *MemoryStore) commit(c FireCommit, now time.Time) CommitResult {
	s, e := m.commitSlot(c)
	if e == nil || c.Token == 0 || e.claimToken != c.Token {
		return CommitResult{JobID: c.JobID, Lost: true}
	}
	res := CommitResult{JobID: c.JobID, Inserted: m.insertRuns(c.Runs, now, e.claimRuns)}
	for _, id := range c.Cancel {
		if r := m.runs[id]; r != nil && r.run.State == RunRunning {
			r.cancel = true
		}
	}
	m.claimed.remove(e)
	m.jobs.slot(s).setNext(c.NextFire, &m.locs)
	m.release(s, time.Time{})
	return res
}

// commitSlot returns the slot and extra of the job c commits. A commit
// made from a claim names the job's slot (FireCommit.slot), which holds
// the job while a claim of it holds: its extra then has the job's ID
// (claimJob), which no other job in the store has. A slot that does not,
// such as one named by another store's claim, is not the job's, and the
// job is looked up by ID. Whether c's claim is the one that holds is
// commit's to check, by the token.
func (m *MemoryStore) commitSlot(c FireCommit) (int32, *memExtra) {
	if s := c.slot - 1; s >= 0 && s < m.jobs.slots.len && m.jobs.slot(s).live() {
		if e := m.jobs.extra(s); e != nil && e.claimJob != "" && e.claimJob == c.JobID {
			return s, e
		}
	}
	s := m.jobs.lookup(c.JobID)
	if s < 0 {
		return s, nil
	}
	return s, m.jobs.extra(s)
}

// AddRuns inserts runs that no trigger produced; duplicates of a fire's
// key are dropped. It returns copies of the runs inserted.
func (m *MemoryStore) AddRuns(ctx context.Context, runs []*Run) ([]*Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, r := range runs {
		if err := r.CheckNew(); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	inserted := slices.Clone(m.insertRuns(runs, time.Time{}, nil)) // not the caller's own slice
	var notices []Notice
	for _, r := range inserted {
		notices = append(notices, Notice{Kind: NoticeRunsCreated, JobID: r.JobID})
	}
	m.unlock(notices)
	return inserted, nil
}

// insertRuns stores copies of the runs whose key is new and returns
// those it inserted: the caller's own runs, which the store does not keep
// (a copy, with Created set, where the caller left Created zero). When it
// inserted every run as given, which is every fire's case, it returns
// runs itself: a commit's result then costs no allocation. known, when
// not nil, is the runs of one job that byJob held, and still holds while
// it has any: the runs of that job take it without a lookup (a claim
// noted it, commitSlot).
//
// A run's fire key is looked for among its job's live and archived runs
// only when one of them may hold it (mayHold): a job's next fire is
// later than all before it, and needs no lookup in the archive.
func (m *MemoryStore) insertRuns(runs []*Run, now time.Time, known *jobRuns) []*Run {
	var out []*Run
	for i, r := range runs {
		of := known
		if of == nil || of.jobID != r.JobID || of.empty() { // empty: evict may have dropped it
			of = m.byJob[r.JobID]
		}
		if of != nil && of.mayHold(r) && (of.hasLive(fireKeyOf(r)) || m.doneKey(r)) || m.runs[r.ID] != nil || m.findDone(r.ID) >= 0 {
			out = diverge(out, runs, i)
			continue
		}
		if of == nil {
			of = m.runsOf(r.JobID)
		}
		of.note(r)
		mr := m.newMemRun(r, of)
		of.own(mr.run)
		if mr.run.Created.IsZero() {
			mr.run.Created = now
			r = mr.run.Clone()
			out = diverge(out, runs, i)
		}
		if mr.run.State == RunPending {
			m.runs[mr.run.ID] = mr
			m.pendingHeap(mr.run.Executor).add(mr)
			of.pending = append(of.pending, mr)
			of.addLive(mr.run)
		} else {
			m.archive(mr)
		}
		if out != nil {
			out = append(out, r)
		}
	}
	if out == nil {
		out = runs // every run went in as given
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// diverge returns out, or, while it is nil, a new slice holding runs[:i]:
// insertRuns's result once it stops being runs itself.
func diverge(out, runs []*Run, i int) []*Run {
	if out != nil {
		return out
	}
	return append(make([]*Run, 0, len(runs)), runs[:i]...)
}

func (m *MemoryStore) pendingHeap(executor string) *timeHeap[*memRun] {
	executor = poolName(executor)
	h := m.pending[executor]
	if h == nil {
		h = &timeHeap[*memRun]{less: dueBefore, index: func(r *memRun) *int32 { return &r.idx }}
		m.pending[executor] = h
	}
	return h
}

func dueBefore(a, b *memRun) bool { return a.run.Due.Before(b.run.Due) }

// pendingDue is the earliest Due among the job's pending runs.
func (jr *jobRuns) pendingDue() time.Time {
	var first time.Time
	for _, mr := range jr.pending {
		if first.IsZero() || mr.run.Due.Before(first) {
			first = mr.run.Due
		}
	}
	return first
}

package sundial

import (
	"context"
	"slices"
	"sort"
	"time"
	"unsafe"
)

// ClaimRuns starts pending runs due by c.Horizon, oldest Due first, up to
// c.Limit per executor, while each run's job has fewer than its
// MaxInstances runs running (1 for a removed job).
func (m *MemoryStore) ClaimRuns(ctx context.Context, c RunClaim) ([]*Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Run
	for executor, limit := range c.Limit {
		h := m.pending[executor]
		if h == nil && executor == "" {
			h = m.pending["default"]
		}
		if h == nil {
			continue
		}
		out = append(out, m.claimFrom(h, limit, c)...)
	}
	return out, nil
}

func (m *MemoryStore) claimFrom(h *timeHeap[*memRun], limit int, c RunClaim) []*Run {
	var out []*Run
	var blocked []*memRun
	for len(out) < limit {
		mr, ok := h.peek()
		if !ok || mr.run.Due.After(c.Horizon) {
			break
		}
		h.pop()
		if n := len(mr.of.running); n > 0 && n >= m.instances(mr.run.JobID) { // every job may run one
			blocked = append(blocked, mr)
			continue
		}
		m.start(mr, c)
		out = append(out, m.copyOut(mr.run))
	}
	for _, mr := range blocked {
		h.add(mr)
	}
	return out
}

func (m *MemoryStore) instances(jobID string) int {
	if s := m.jobs.lookup(jobID); s >= 0 {
		return max(int(m.jobs.slot(s).maxInst), 1)
	}
	return 1
}

func (m *MemoryStore) start(mr *memRun, c RunClaim) {
	r, jr := mr.run, mr.of
	jr.pending = removeRun(jr.pending, mr)
	m.fence++ // one sequence for all jobs: strictly increasing per job, and no state kept per job
	r.State, r.Node, r.Started, r.Fence = RunRunning, c.Node, c.Now, m.fence
	jr.running = append(jr.running, mr)
	mr.at = int32(len(m.running))
	m.running = append(m.running, mr)
}

// FinishRun records a running run's end and inserts retry, if any, in the
// same step. It fails with ErrNotFound for an unknown run and ErrConflict
// when the run is not running on run.Node.
func (m *MemoryStore) FinishRun(ctx context.Context, run *Run, retry *Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckFinish(run, retry); err != nil {
		return err
	}
	var ended, created noticeBatch
	m.mu.Lock()
	if err := m.finish(run, retry, &ended, &created); err != nil {
		m.mu.Unlock()
		return err
	}
	m.unlock(created.appendTo(ended.appendTo(nil, NoticeRunFinished), NoticeRunsCreated))
	return nil
}

// FinishRuns records many run ends under one hold of the lock, each as
// FinishRun would, and returns an error per end, in order.
func (m *MemoryStore) FinishRuns(ctx context.Context, ends []RunEnd) []error {
	errs := make([]error, len(ends))
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	var ended, created noticeBatch // one notice of each kind for the batch
	m.mu.Lock()
	for i, e := range ends {
		if errs[i] = CheckFinish(e.Run, e.Retry); errs[i] == nil {
			errs[i] = m.finish(e.Run, e.Retry, &ended, &created)
		}
	}
	m.unlock(created.appendTo(ended.appendTo(nil, NoticeRunFinished), NoticeRunsCreated))
	return errs
}

// finish ends a running run and inserts its retry, adding their jobs to
// the notices the caller delivers; the caller holds the lock.
func (m *MemoryStore) finish(run, retry *Run, ended, created *noticeBatch) error {
	mr := m.runs[run.ID]
	switch {
	case mr == nil:
		if s := m.findDone(run.ID); s >= 0 {
			r := m.unpackRun(s)
			return &conflictError{"run " + run.ID + " is " + r.State.String() + " on node " + r.Node}
		}
		return &notFoundError{"run " + run.ID}
	case mr.run.State != RunRunning || mr.run.Node != run.Node:
		return &conflictError{"run " + run.ID + " is " + mr.run.State.String() + " on node " + mr.run.Node}
	}
	r := mr.run
	r.State, r.Finished, r.Error, r.Stack, r.Reason = run.State, run.Finished, run.Error, run.Stack, run.Reason
	r.Started = run.Started // when the task began; zero if it never did
	job := r.JobID
	m.stopRunning(mr)
	m.archive(mr)
	ended.add(job, time.Time{})
	if retry != nil && len(m.insertRuns([]*Run{retry}, run.Finished, nil)) > 0 {
		created.add(job, time.Time{})
	}
	return nil
}

// stopRunning takes a running run out of the live runs, for archive.
func (m *MemoryStore) stopRunning(mr *memRun) {
	delete(m.runs, mr.run.ID)
	mr.of.running = removeRun(mr.of.running, mr)
	mr.of.dropLive(mr.run)
	last := m.running[len(m.running)-1]
	m.running[mr.at], last.at = last, mr.at
	m.running[len(m.running)-1] = nil
	m.running = m.running[:len(m.running)-1]
	mr.cancel = false
}

// removeRun returns rs without mr, keeping the order, in a new array (the
// old one may be shared with a caller's copy), or, when mr was its only
// run, rs emptied: a caller ranging over it has read its one run already,
// and a job's next run then takes its place without an allocation.
func removeRun(rs []*memRun, mr *memRun) []*memRun {
	if len(rs) == 1 && rs[0] == mr {
		rs[0] = nil
		return rs[:0]
	}
	for i, x := range rs {
		if x == mr {
			return append(rs[:i:i], rs[i+1:]...)
		}
	}
	return rs
}

// GetRun returns a copy of a run, or ErrNotFound.
func (m *MemoryStore) GetRun(ctx context.Context, id string) (*Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if mr := m.runs[id]; mr != nil {
		return mr.run.Clone(), nil
	}
	if s := m.findDone(id); s >= 0 {
		return m.unpackRun(s), nil
	}
	return nil, &notFoundError{"run " + id}
}

// ListRuns returns copies of the runs matching f, newest Scheduled first
// (ties: newest ID first), at most f.Limit (zero: 100).
func (m *MemoryStore) ListRuns(ctx context.Context, f RunFilter) ([]*Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var cursor *listed // f.Before's run: only runs after it are listed
	if f.Before != "" {
		if mr := m.runs[f.Before]; mr != nil {
			c := liveListed(mr.run)
			cursor = &c
		} else if s := m.findDone(f.Before); s >= 0 {
			c := m.doneListed(s)
			cursor = &c
		}
	}
	pg := newPage(f.Limit)
	add := func(l listed) {
		if cursor == nil || l.after(cursor) { // a page holds only what follows
			pg.offer(l)
		}
	}
	m.eachCandidate(f, func(r *Run) {
		if f.matches(r) {
			add(liveListed(r))
		}
	}, func(s int32) {
		if m.doneMatches(f, s) {
			add(m.doneListed(s))
		}
	})
	all := pg.sorted()
	out := make([]*Run, len(all))
	for i, l := range all {
		if l.run != nil {
			out[i] = l.run.Clone()
		} else {
			out[i] = m.unpackRun(l.slot)
		}
	}
	return out, nil
}

// listed is a run a listing may return, live or archived, with what its
// order compares: newest Scheduled first, then newest ID first.
type listed struct {
	run  *Run        // a live run, or nil
	arch *runArchive // else the archive holding it,
	slot int32       // in this slot
	sec  int64       // Scheduled
	nsec int32
	id   string // the archived run's ID, once a tie read it (idOf)
}

func liveListed(r *Run) listed {
	return listed{run: r, sec: r.Scheduled.Unix(), nsec: int32(r.Scheduled.Nanosecond())}
}

func (m *MemoryStore) doneListed(s int32) listed {
	d := m.done.slot(s)
	return listed{arch: &m.done, slot: s, sec: d.schedSec, nsec: d.schedNsec}
}

// idOf returns l's run ID. An archived run's is read from the arena only
// when a tie of Scheduled asks for it, and shares the arena's memory, so
// l must not outlive the store's hold of its lock: a listing that reads
// every ID would read the packed data of the whole history.
func (l *listed) idOf() string {
	if l.run != nil {
		return l.run.ID
	}
	if l.id == "" {
		id, _ := l.arch.idAndJob(l.slot)
		l.id = unsafe.String(unsafe.SliceData(id), len(id))
	}
	return l.id
}

// page keeps the first n runs of a listing among those offered, in a
// heap whose top is the one of them that comes last: a page of 100 out
// of a history of 100,000 holds and sorts 100, not 100,000. Offered
// newest first, as the archive's slots and a job's history mostly are
// when read backwards, a run past the first n is turned away by the top
// alone.
type page struct {
	n    int
	runs timeHeap[listed]
}

func newPage(n int) page {
	return page{n: n, runs: timeHeap[listed]{less: func(a, b listed) bool { return a.after(&b) }}}
}

// offer keeps l if it is among the first n offered so far.
func (p *page) offer(l listed) {
	switch {
	case p.runs.Len() < p.n:
		p.runs.add(l)
	case p.runs.items[0].after(&l): // l comes before the page's last, which it replaces
		p.runs.replaceTop(l)
	}
}

// sorted returns the runs kept, in listing order.
func (p *page) sorted() []listed {
	slices.SortFunc(p.runs.items, listingOrder)
	return p.runs.items
}

// listingOrder compares two runs of a listing as slices.SortFunc does:
// negative when a comes first.
func listingOrder(a, b listed) int {
	switch {
	case b.after(&a):
		return -1
	case a.after(&b):
		return 1
	}
	return 0
}

// after reports whether l comes after o in a listing.
func (l *listed) after(o *listed) bool {
	if l.sec != o.sec {
		return l.sec < o.sec
	}
	if l.nsec != o.nsec {
		return l.nsec < o.nsec
	}
	return l.idOf() < o.idOf()
}

// eachCandidate calls live or done for the runs f may select: one job's
// (its pending, running and finished runs) when f names one, only the
// running ones when it asks for nothing else (the heartbeat's question),
// else every run.
func (m *MemoryStore) eachCandidate(f RunFilter, live func(*Run), done func(slot int32)) {
	switch {
	case f.JobID != "":
		if jr := m.byJob[f.JobID]; jr != nil {
			for _, mr := range jr.pending {
				live(mr.run)
			}
			for _, mr := range jr.running {
				live(mr.run)
			}
			for _, s := range slices.Backward(jr.history) { // newest first, as pages are (page.offer)
				done(s)
			}
		}
	case len(f.States) == 1 && f.States[0] == RunRunning:
		for _, mr := range m.running {
			live(mr.run)
		}
	default:
		for _, mr := range m.runs {
			live(mr.run)
		}
		for s := m.done.slots.len - 1; s >= 0; s-- { // the newest slots first, mostly (page.offer)
			if m.done.slot(s).live {
				done(s)
			}
		}
	}
}

// doneMatches is matches for an archived run, read without unpacking it.
func (m *MemoryStore) doneMatches(f RunFilter, s int32) bool {
	d := m.done.slot(s)
	if f.JobID != "" {
		if _, job := m.done.idAndJob(s); string(job) != f.JobID {
			return false
		}
	}
	at := time.Unix(d.schedSec, int64(d.schedNsec))
	if !f.From.IsZero() && at.Before(f.From) || !f.To.IsZero() && !at.Before(f.To) || !f.hasState(d.state) {
		return false
	}
	if f.Node != "" || !f.StartedBefore.IsZero() { // packed: read only when asked
		return f.matches(m.unpackRun(s))
	}
	return true
}

func (f RunFilter) matches(r *Run) bool {
	if f.JobID != "" && r.JobID != f.JobID || f.Node != "" && r.Node != f.Node {
		return false
	}
	if !f.StartedBefore.IsZero() && (r.Started.IsZero() || !r.Started.Before(f.StartedBefore)) {
		return false
	}
	if !f.From.IsZero() && r.Scheduled.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !r.Scheduled.Before(f.To) {
		return false
	}
	return f.hasState(r.State)
}

// hasState reports whether f selects runs in the state.
func (f RunFilter) hasState(state RunState) bool {
	if len(f.States) == 0 {
		return true
	}
	for _, s := range f.States {
		if state == s {
			return true
		}
	}
	return false
}

// PruneRuns deletes finished runs older than r.MaxAge and beyond
// r.KeepPerJob per job, and returns how many.
func (m *MemoryStore) PruneRuns(ctx context.Context, r Retention, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if r.MaxAge < 0 || r.KeepPerJob < 0 {
		return 0, invalid("retention", "negative bound")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, cutoff := 0, now.Add(-r.MaxAge)
	for _, jr := range m.byJob {
		h := jr.history
		var drop []int32
		for i, s := range h {
			tooOld := r.MaxAge > 0 && m.done.finished(s).Before(cutoff)
			tooMany := r.KeepPerJob > 0 && i < len(h)-r.KeepPerJob
			if tooOld || tooMany {
				drop = append(drop, s)
			}
		}
		for _, s := range drop {
			m.evict(s, jr)
			n++
		}
	}
	m.compactOrder()
	return n, nil
}

// Heartbeat records that node is alive until now + node.TTL (zero: 10s)
// and returns the runs it must cancel.
func (m *MemoryStore) Heartbeat(ctx context.Context, node NodeInfo, now time.Time) (Heartbeat, error) {
	if err := ctx.Err(); err != nil {
		return Heartbeat{}, err
	}
	if node.ID == "" {
		return Heartbeat{}, invalid("node.id", "missing")
	}
	ttl := node.TTL
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes[node.ID] = memNode{started: node.Started, seen: now, expires: now.Add(ttl)}
	var hb Heartbeat
	for id, n := range m.nodes {
		if id != node.ID && (hb.PeerExpiry.IsZero() || n.expires.Before(hb.PeerExpiry)) {
			hb.PeerExpiry = n.expires
		}
	}
	for _, id := range node.Running {
		mr := m.runs[id]
		if mr == nil || mr.run.State != RunRunning || mr.run.Node != node.ID || mr.cancel {
			hb.Cancel = append(hb.Cancel, id)
		}
	}
	return hb, nil
}

// memNode is a node's last heartbeat.
type memNode struct{ started, seen, expires time.Time }

// RecoverRuns interrupts the running runs of nodes whose heartbeat expired,
// inserts their retries per the job's policy, and reports the lost nodes
// (each once; a node that heartbeats again is alive again).
func (m *MemoryStore) RecoverRuns(ctx context.Context, now time.Time) (Recovery, error) {
	if err := ctx.Err(); err != nil {
		return Recovery{}, err
	}
	m.mu.Lock()
	var rec Recovery
	for node, n := range m.nodes {
		if n.expires.After(now) {
			continue
		}
		delete(m.nodes, node)
		rec.LostNodes = append(rec.LostNodes, node)
		m.interruptNode(node, now, &rec)
	}
	sort.Strings(rec.LostNodes)
	var notices []Notice
	for _, r := range rec.Interrupted {
		notices = append(notices, Notice{Kind: NoticeRunFinished, JobID: r.JobID})
	}
	if len(rec.Retries) > 0 {
		notices = append(notices, Notice{Kind: NoticeRunsCreated})
	}
	m.unlock(notices)
	return rec, nil
}

func (m *MemoryStore) interruptNode(node string, now time.Time, rec *Recovery) {
	var lost []*memRun
	for _, mr := range m.running {
		if mr.run.Node == node {
			lost = append(lost, mr)
		}
	}
	for _, mr := range lost {
		mr.run.State, mr.run.Reason, mr.run.Finished = RunInterrupted, "node lost", now
		r := mr.run.Clone()
		m.stopRunning(mr)
		m.archive(mr)
		rec.Interrupted = append(rec.Interrupted, r)
		var job *Job
		if s := m.jobs.lookup(r.JobID); s >= 0 {
			job = m.unpack(s)
		}
		if retry := PlanRetry(job, r, now); retry != nil {
			rec.Retries = append(rec.Retries, m.insertRuns([]*Run{retry}, now, nil)...)
		}
	}
}

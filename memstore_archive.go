package sundial

import (
	"encoding/binary"
	"encoding/json"
	"time"
)

// runArchive holds the memory store's finished runs, the bulk of what it
// keeps (up to MaxRuns), where the collector has nothing to scan, as
// jobTable holds the jobs: each run is a pointer-free doneRun in pages of
// slots, its other fields packed into the arena's chunks, found by ID and
// by fire key through two idIndexes. A hundred thousand finished runs are
// then a few hundred large objects, not half a million small pointerful
// ones that every collection marked again while runs were due: their
// marking is what made fires late while a collection ran.
//
// Pending and running runs, which change, stay *Run values (memRun); a run
// is packed once, when it finishes, and unpacked only when it is read.
type runArchive struct {
	slots slots[doneRun]
	ids   idIndex // run ID → slot
	keys  idIndex // fire key (job, scheduled, attempt, manual) → slot
	arena arena
	order orderQueue // archived runs, oldest first
	kept  int        // runs held
}

// orderQueue is the archive's order: a queue in one array, whose
// consumed front push reuses instead of growing the array. Slicing off
// the front would have the array grown and copied whole, a hundred
// thousand entries, every quarter of that many fires.
type orderQueue struct {
	buf  []archived // entries from head on are queued
	head int
}

func (q *orderQueue) len() int { return len(q.buf) - q.head }

// push queues e at the back, first moving the queued entries to the
// array's start when it is full and at least half of it consumed: each
// entry moves once per half an array of pushes, and the array grows only
// when more than half of it is queued.
func (q *orderQueue) push(e archived) {
	if len(q.buf) == cap(q.buf) && q.head > 0 && q.head >= len(q.buf)/2 {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:]) // holds no jobRuns
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, e)
}

// pop takes the oldest entry off the queue, which must not be empty.
func (q *orderQueue) pop() archived {
	e := q.buf[q.head]
	q.buf[q.head] = archived{} // holds no jobRuns
	q.head++
	return e
}

// entries returns the queued entries, oldest first.
func (q *orderQueue) entries() []archived { return q.buf[q.head:] }

// archived is an entry of the archive's order: a slot, stale once the
// slot moves on to another generation, and the jobRuns whose history
// holds it while it is not, for evict.
type archived struct {
	slot int32
	gen  uint32
	of   *jobRuns
}

// live reports whether the entry's run is still in the archive.
func (a *runArchive) live(e archived) bool {
	d := a.slot(e.slot)
	return d.live && d.gen == e.gen
}

// doneRun is a finished run as the archive keeps it: what its indexes,
// listings and pruning compare is here; the rest, ID and job ID first, is
// packed.
type doneRun struct {
	schedSec  int64
	finSec    int64 // Finished, the instant (its zone is packed)
	schedNsec int32
	finNsec   int32
	attempt   int32
	gen       uint32 // bumped when the slot is freed
	idTag     uint32 // its entry's tag in ids, and in keys: evict finds
	keyTag    uint32 // them without the ID and job ID, which are packed
	piece            // where the arena keeps the rest
	state     RunState
	manual    bool
	live      bool
}

// Field tags of a packed run, after its ID and job ID. A field at its
// zero value is left out; the state, attempt and manual flag are in the
// doneRun.
const (
	runTagTask byte = iota + 1
	runTagArgs
	runTagScheduled
	runTagDue
	runTagJitter
	runTagReason
	runTagNode
	runTagExecutor
	runTagFence
	runTagTimeout
	runTagSlowAfter
	runTagCreated
	runTagStarted
	runTagFinished
	runTagError
	runTagStack
)

func (a *runArchive) init() {
	*a = runArchive{ids: idIndex{entries: make([]uint64, minIndex)}, keys: idIndex{entries: make([]uint64, minIndex)}}
}

func (a *runArchive) slot(s int32) *doneRun { return a.slots.at(s) }

func (a *runArchive) data(s int32) []byte {
	d := a.slot(s)
	return a.arena.get(d.piece)
}

// ids returns the packed run's ID and job ID, which share the arena's
// memory.
func (a *runArchive) idAndJob(s int32) (id, job []byte) {
	b := a.data(s)
	n, k := binary.Uvarint(b)
	id, b = b[k:k+int(n)], b[k+int(n):]
	n, k = binary.Uvarint(b)
	return id, b[k : k+int(n)]
}

// keyHash hashes a fire key from its job ID's hash.
func keyHash(job uint64, sec int64, nsec, attempt int32, manual bool) uint64 {
	h := job ^ uint64(sec)*0x9e3779b97f4a7c15 ^ uint64(uint32(nsec))<<1 ^ uint64(uint32(attempt))<<33
	if manual {
		h = ^h
	}
	h ^= h >> 33 // murmur3's finaliser: every input bit reaches the low half, the tag
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	return h ^ h>>33
}

// findDone looks a finished run up by ID; the slot is -1 when there is none.
func (m *MemoryStore) findDone(id string) int32 {
	a := &m.done
	return a.ids.probe(uint32(m.hash.str(id)), func(s int32) bool {
		got, _ := a.idAndJob(s)
		return string(got) == id
	}).slot
}

// doneKey reports whether a finished run holds r's fire key (job,
// scheduled time, attempt, manual).
func (m *MemoryStore) doneKey(r *Run) bool {
	a := &m.done
	sec, nsec, attempt := r.Scheduled.Unix(), int32(r.Scheduled.Nanosecond()), int32(r.Attempt)
	h := keyHash(m.hash.str(r.JobID), sec, nsec, attempt, r.Manual)
	return a.keys.probe(uint32(h), func(s int32) bool {
		d := a.slot(s)
		if d.schedSec != sec || d.schedNsec != nsec || d.attempt != attempt || d.manual != r.Manual {
			return false
		}
		_, job := a.idAndJob(s)
		return string(job) == r.JobID
	}).slot >= 0
}

// archive packs a finished run, no longer among the live runs
// (stopRunning, or never there), into the archive, then evicts the oldest
// runs beyond the bounds. mr is recycled: the caller must not use it, or
// its run, afterwards.
func (m *MemoryStore) archive(mr *memRun) {
	r, jr := mr.run, mr.of
	s := m.packRun(r)
	jr.history = append(jr.history, s)
	m.done.order.push(archived{slot: s, gen: m.done.slot(s).gen, of: jr})
	m.done.kept++
	m.recycle(mr)
	if len(jr.history) > m.cfg.MaxRunsPerJob {
		m.evict(jr.history[0], jr)
	}
	for m.done.kept > m.cfg.MaxRuns && m.done.order.len() > 0 {
		if oldest := m.done.order.pop(); m.done.live(oldest) {
			m.evict(oldest.slot, oldest.of)
		}
	}
	if m.done.order.len() > 2*m.done.kept+64 {
		m.compactOrder()
	}
}

// compactOrder drops the entries of runs evicted by the per-job bound or
// pruning from the archive's order, so it stays proportional to the runs
// kept.
func (m *MemoryStore) compactOrder() {
	kept := make([]archived, 0, m.done.kept)
	for _, e := range m.done.order.entries() {
		if m.done.live(e) {
			kept = append(kept, e)
		}
	}
	m.done.order = orderQueue{buf: kept}
}

// packRun stores r in a free slot of the archive and indexes it.
func (m *MemoryStore) packRun(r *Run) int32 {
	a := &m.done
	p := packer{locs: &m.locs, b: m.scratch[:0]}
	p.b = binary.AppendUvarint(p.b, uint64(len(r.ID)))
	p.b = append(p.b, r.ID...)
	p.b = binary.AppendUvarint(p.b, uint64(len(r.JobID)))
	p.b = append(p.b, r.JobID...)
	p.str(runTagTask, r.Task)
	if len(r.Args) > 0 {
		p.str(runTagArgs, string(r.Args))
	}
	p.times(runTagScheduled, r.Scheduled)
	p.times(runTagDue, r.Due)
	p.num(runTagJitter, int64(r.Jitter))
	p.str(runTagReason, r.Reason)
	p.str(runTagNode, r.Node)
	p.str(runTagExecutor, r.Executor)
	p.num(runTagFence, r.Fence)
	p.num(runTagTimeout, int64(r.Timeout))
	p.num(runTagSlowAfter, int64(r.SlowAfter))
	p.times(runTagCreated, r.Created)
	p.times(runTagStarted, r.Started)
	p.times(runTagFinished, r.Finished)
	p.str(runTagError, r.Error)
	p.str(runTagStack, r.Stack)
	m.scratch = p.b

	s := a.slots.take()
	at := a.arena.put(p.b)
	sec, nsec := r.Scheduled.Unix(), int32(r.Scheduled.Nanosecond())
	d := a.slot(s)
	idTag := uint32(m.hash.str(r.ID))
	keyTag := uint32(keyHash(m.hash.str(r.JobID), sec, nsec, int32(r.Attempt), r.Manual))
	*d = doneRun{schedSec: sec, schedNsec: nsec, finSec: r.Finished.Unix(), finNsec: int32(r.Finished.Nanosecond()),
		attempt: int32(r.Attempt), gen: d.gen, idTag: idTag, keyTag: keyTag, piece: at, state: r.State, manual: r.Manual, live: true}
	never := func(int32) bool { return false } // the store checked that neither the ID nor the key is held
	a.ids.set(a.ids.probe(idTag, never), s)
	a.keys.set(a.keys.probe(keyTag, never), s)
	return s
}

// evict forgets a finished run of jr's job, its fire key with it.
func (m *MemoryStore) evict(s int32, jr *jobRuns) {
	a := &m.done
	d := a.slot(s)
	same := func(x int32) bool { return x == s }
	a.ids.unset(a.ids.probe(d.idTag, same).pos)
	a.keys.unset(a.keys.probe(d.keyTag, same).pos)
	h := jr.history
	switch {
	case h[0] == s: // the oldest, as the bounds evict: no copy
		h = h[1:]
	default:
		for i, x := range h {
			if x == s {
				h = append(h[:i:i], h[i+1:]...)
				break
			}
		}
	}
	jr.history = h
	if jr.empty() {
		delete(m.byJob, jr.jobID)
	}
	a.arena.free(d.piece)
	*d = doneRun{gen: d.gen + 1}
	a.slots.give(s)
	a.kept--
	if a.arena.wasteful() {
		compactArena(&a.arena, &a.slots)
	}
}

func (d *doneRun) held() (*piece, bool) { return &d.piece, d.live }

// finished returns when the archived run in slot s finished, without its
// zone: for comparing, not for showing.
func (a *runArchive) finished(s int32) time.Time {
	d := a.slot(s)
	return time.Unix(d.finSec, int64(d.finNsec))
}

// unpackRun rebuilds the finished run in slot s, a new *Run the caller
// owns.
func (m *MemoryStore) unpackRun(s int32) *Run {
	d := m.done.slot(s)
	u := unpacker{s: string(m.done.data(s)), locs: &m.locs} // one copy, which the run's strings share
	r := &Run{ID: u.str(), JobID: u.str(), Attempt: int(d.attempt), State: d.state, Manual: d.manual}
	for u.s != "" {
		tag := u.s[0]
		u.s = u.s[1:]
		switch tag {
		case runTagTask:
			r.Task = u.str()
		case runTagArgs:
			r.Args = json.RawMessage(u.str())
		case runTagScheduled:
			r.Scheduled = u.time()
		case runTagDue:
			r.Due = u.time()
		case runTagJitter:
			r.Jitter = time.Duration(u.varint())
		case runTagReason:
			r.Reason = u.str()
		case runTagNode:
			r.Node = u.str()
		case runTagExecutor:
			r.Executor = u.str()
		case runTagFence:
			r.Fence = u.varint()
		case runTagTimeout:
			r.Timeout = time.Duration(u.varint())
		case runTagSlowAfter:
			r.SlowAfter = time.Duration(u.varint())
		case runTagCreated:
			r.Created = u.time()
		case runTagStarted:
			r.Started = u.time()
		case runTagFinished:
			r.Finished = u.time()
		case runTagError:
			r.Error = u.str()
		case runTagStack:
			r.Stack = u.str()
		default:
			panic("sundial: memory store: corrupt packed run (tag " + itoa64(int64(tag)) + ")")
		}
	}
	return r
}

// recycle keeps a run record the store is done with for the next run it
// inserts, up to maxSpareRuns: every fire makes one and, in steady state,
// archives one.
func (m *MemoryStore) recycle(mr *memRun) {
	if len(m.spareRuns) < maxSpareRuns {
		emptyRun(mr.run)
		*mr = memRun{run: mr.run, idx: -1}
		m.spareRuns = append(m.spareRuns, mr)
	}
}

// newMemRun returns a run record holding a copy of r, recycled where one
// is spare.
func (m *MemoryStore) newMemRun(r *Run, of *jobRuns) *memRun {
	mr := takeSpare(&m.spareRuns)
	if mr == nil {
		return &memRun{run: r.Clone(), of: of, idx: -1}
	}
	copyRun(mr.run, r)
	mr.of = of
	return mr
}

// takeRuns takes back runs the store handed out (ClaimRuns) whose holder
// is done with them and keeps no part of them, for the next claims to
// copy into: a worker's record of a run it ran is garbage once the run's
// end is written, and every fire would allocate one otherwise.
func (m *MemoryStore) takeRuns(runs []*Run) {
	m.mu.Lock()
	for _, r := range runs {
		if len(m.spareOut) >= maxSpareRuns {
			break
		}
		emptyRun(r)
		m.spareOut = append(m.spareOut, r)
	}
	m.mu.Unlock()
}

// copyOut returns a copy of r for a caller, in a run taken back where
// one is spare.
func (m *MemoryStore) copyOut(r *Run) *Run {
	c := takeSpare(&m.spareOut)
	if c == nil {
		return r.Clone()
	}
	copyRun(c, r)
	return c
}

// maxSpareRuns bounds the run records, and the runs taken back from a
// worker, that the store keeps for reuse. Runs due at one instant are
// created, claimed and finished together, so the spares must hold a whole
// burst to spare it an allocation per run: 16,384 holds the burst of a
// 64-slot pool's slot window (claimWindow); a larger one, claimed whole
// alone on its store (minClaimWindow), allocates the rest. A burst that
// large needed the memory anyway; the spares keep it for the next: at
// most about 12 MB, a run and a record in each list.
const maxSpareRuns = 1 << 14

// maxSpareArgs bounds the arguments' array an emptied run keeps.
const maxSpareArgs = 1 << 10

// emptyRun zeroes a run kept for reuse, keeping its arguments' array for
// the next copy unless it is large (a rare large argument is not kept).
func emptyRun(r *Run) {
	args := r.Args[:0]
	if cap(args) > maxSpareArgs {
		args = nil
	}
	*r = Run{Args: args}
}

// copyRun makes dst, an emptied run, a copy of src: Clone without the
// allocation, its arguments copied into dst's array.
func copyRun(dst, src *Run) {
	args := dst.Args
	*dst = *src
	dst.Args = nil
	if len(src.Args) > 0 {
		dst.Args = append(args, src.Args...)
	}
}

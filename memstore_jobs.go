package sundial

import (
	"encoding/binary"
	"hash/maphash"
	"sync/atomic"
	"time"
)

// jobTable holds the memory store's jobs where the garbage collector has
// nothing to look at: each job is a pointer-free memJob in one slice,
// found by slot number; its packed form (see pack) lives in large byte
// chunks; the ID index (idIndex) finds the slot by ID. A store of a
// million idle jobs is then a few dozen large objects, which a collection
// marks without scanning, instead of millions of small ones, so
// registering a job costs little collection work however many are
// already registered, and an idle store costs none.
//
// Slots are reused, so a slot number is valid only while the store's lock
// is held.
type jobTable struct {
	slots slots[memJob]

	index idIndex
	hash  *idHash // the store's

	arena  arena
	extras map[int32]*memExtra // by slot, for jobs with hasExtra
	spare  []*memExtra         // dropped extras, for the next claims
}

// maxSpare bounds the extras kept for reuse: a claim takes one per job,
// and a round claims up to a thousand.
const maxSpare = 4096

// memJob is a job as the memory store keeps it. The fields its indexes
// read on every pass (next fire, paused, max instances) are fields; the
// rest, ID included, is packed into bytes in the table's arena. It is 32
// bytes, a million of them 32 MB.
type memJob struct {
	nextSec  int64 // NextFire, when hasNext
	nextNsec int32
	dueIdx   int32 // index in the due heap, -1 when out
	maxInst  int32 // MaxInstances
	piece          // where the arena keeps the packed job
	nextLoc  uint16
	flags    jobFlags
}

// jobFlags are a memJob's booleans, one bit each.
type jobFlags uint8

const (
	jobHasNext  jobFlags = 1 << iota // false: the job will not fire again
	jobPaused                        // Paused
	jobHasExtra                      // extras holds this slot
	jobLive                          // false: a free slot
)

func (mj *memJob) hasNext() bool  { return mj.flags&jobHasNext != 0 }
func (mj *memJob) paused() bool   { return mj.flags&jobPaused != 0 }
func (mj *memJob) hasExtra() bool { return mj.flags&jobHasExtra != 0 }
func (mj *memJob) live() bool     { return mj.flags&jobLive != 0 }

// set turns the flags f on or off.
func (mj *memJob) set(f jobFlags, on bool) {
	if on {
		mj.flags |= f
	} else {
		mj.flags &^= f
	}
}

// memExtra holds what most jobs lack: a trigger that pack does not encode,
// and the claim while one is held.
type memExtra struct {
	slot       int32
	trig       Trigger
	claimIdx   int32 // index in the claimed heap, -1 when out
	claimToken int64
	claimNode  string
	claimUntil time.Time
	lapsed     time.Time // DueJob.Lapsed

	// While claimed: the job's ID as the claim's DueJob holds it, and
	// the job's runs then (nil when it had none), with which commit finds
	// the job and its runs without looking either up (commitSlot).
	claimJob  string
	claimRuns *jobRuns
}

// idHash hashes IDs for the memory store's open-addressing indexes (the
// job table's and the run archive's): maphash with the store's seed, or
// force, with which tests make IDs collide.
type idHash struct {
	seed  maphash.Seed
	force func(string) uint64
}

func (h *idHash) str(s string) uint64 {
	if h.force != nil {
		return h.force(s)
	}
	return maphash.String(h.seed, s)
}

// init makes the table ready, and empty, hashing IDs with h and
// publishing the index's entries to warm.
func (t *jobTable) init(h *idHash, warm *atomic.Pointer[[]uint64]) {
	*t = jobTable{
		index:  idIndex{entries: make([]uint64, minIndex), published: warm},
		extras: map[int32]*memExtra{},
		hash:   h,
	}
	t.index.publish()
}

// idIndex finds a job's slot by its ID: an open-addressing table whose
// entries hold the low half of the ID's hash and the slot plus one, probed
// linearly from the hash. It holds no pointers, and one probe both looks
// an ID up and finds the entry a new ID takes (a map would take two).
type idIndex struct {
	entries   []uint64 // a power of two long; at most 3/4 used or removed
	used      int
	removed   int
	published *atomic.Pointer[[]uint64] // when set, holds entries for readers without the lock
}

// publish stores the current entries where published points.
func (x *idIndex) publish() {
	if x.published != nil {
		e := x.entries
		x.published.Store(&e)
	}
}

const (
	minIndex     = 16
	removedEntry = 1<<32 - 1 // the low half of a removed entry
)

// place is where an ID is, or would go, in the index.
type place struct {
	pos  int    // the ID's entry, or the entry a new ID takes
	tag  uint32 // the low half of the ID's hash
	slot int32  // the job's slot, -1 when there is none
}

// find looks an ID up.
func (t *jobTable) find(id string) place { return t.findHashed(id, t.hash.str(id)) }

// findHashed looks up an ID whose hash is h.
func (t *jobTable) findHashed(id string, h uint64) place {
	return t.index.probe(uint32(h), func(s int32) bool { return string(t.idBytes(s)) == id })
}

// probe looks for the entry with the tag whose slot is accepts, probing
// linearly from the tag; is is asked only about slots whose tag matches.
// It returns that entry, or, with slot -1, the entry a new one with the
// tag takes.
func (x *idIndex) probe(tag uint32, is func(slot int32) bool) place {
	e := x.entries
	mask := len(e) - 1
	free := -1
	for i := home(e, tag); ; i = (i + 1) & mask {
		low := uint32(e[i])
		switch {
		case low == 0: // the end of the probe: no entry is accepted
			if free < 0 {
				free = i
			}
			return place{free, tag, -1}
		case low == removedEntry:
			if free < 0 {
				free = i
			}
		case uint32(e[i]>>32) == tag && is(int32(low-1)):
			return place{i, tag, int32(low - 1)}
		}
	}
}

// home returns where the probe for tag starts in entries, a power of two
// long.
func home(entries []uint64, tag uint32) int { return int(tag) & (len(entries) - 1) }

// set makes entry at.pos hold slot s.
func (x *idIndex) set(at place, s int32) {
	if uint32(x.entries[at.pos]) == removedEntry {
		x.removed--
	}
	x.entries[at.pos] = uint64(at.tag)<<32 | uint64(s+1)
	x.used++
	if 4*(x.used+x.removed) > 3*len(x.entries) {
		x.rehash()
	}
}

// unset removes the entry at pos.
func (x *idIndex) unset(pos int) {
	x.entries[pos] = removedEntry
	x.used--
	x.removed++
}

// rehash rebuilds the table at most half full, without removed entries.
func (x *idIndex) rehash() {
	size := minIndex
	for size < 2*x.used {
		size *= 2
	}
	old := x.entries
	x.entries, x.removed = make([]uint64, size), 0
	mask := size - 1
	for _, e := range old {
		if low := uint32(e); low == 0 || low == removedEntry {
			continue
		}
		i := int(uint32(e>>32)) & mask
		for x.entries[i] != 0 {
			i = (i + 1) & mask
		}
		x.entries[i] = e
	}
	x.publish()
}

// lookup returns the slot of the job with the ID, or -1.
func (t *jobTable) lookup(id string) int32 { return t.find(id).slot }

// insert stores a packed job in a free slot, indexed at at, where find
// put its ID (which no job has), and returns the slot, zeroed but for its
// data.
func (t *jobTable) insert(packed []byte, at place) int32 {
	s := t.slots.take()
	*t.slot(s) = memJob{dueIdx: -1, piece: t.arena.put(packed), flags: jobLive}
	t.index.set(at, s)
	return s
}

// count returns how many jobs the table holds.
func (t *jobTable) count() int { return t.slots.inUse() }

// remove frees the slot and data of the job find put at at, unindexes it,
// and returns at with no slot: where a new job with the same ID goes. The
// caller has taken the job out of the heaps.
func (t *jobTable) remove(at place) place {
	s := at.slot
	t.index.unset(at.pos)
	mj := t.slot(s)
	if mj.hasExtra() {
		t.dropExtra(s)
	}
	t.arena.free(mj.piece)
	*mj = memJob{dueIdx: -1}
	t.slots.give(s)
	if t.arena.wasteful() {
		compactArena(&t.arena, &t.slots)
	}
	at.slot = -1 // the removed entry lies on the ID's probe, before its end
	return at
}

// slots holds values by slot number in pages of pageSlots that never
// move (growing one slice of a million would copy it, and stall the
// collector, each time it grew), and reuses freed slots.
type slots[T any] struct {
	pages [][]T
	len   int32   // slots in use or free
	free  []int32 // slots to reuse
}

// pageSlots is how many slots a page holds.
const pageSlots = 4096

func (p *slots[T]) at(s int32) *T { return &p.pages[s/pageSlots][s%pageSlots] }

// take returns a free slot, reused or new; the caller sets its value.
func (p *slots[T]) take() int32 {
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		return s
	}
	if int(p.len) == len(p.pages)*pageSlots {
		p.pages = append(p.pages, make([]T, pageSlots))
	}
	p.len++
	return p.len - 1
}

// give frees slot s for take to reuse; the caller cleared its value.
func (p *slots[T]) give(s int32) { p.free = append(p.free, s) }

func (p *slots[T]) inUse() int { return int(p.len) - len(p.free) }

// takeSpare pops a value kept for reuse off spare; nil when none is.
func takeSpare[T any](spare *[]*T) *T {
	n := len(*spare)
	if n == 0 {
		return nil
	}
	v := (*spare)[n-1]
	(*spare)[n-1] = nil
	*spare = (*spare)[:n-1]
	return v
}

// putSpare keeps v, if not nil, for reuse, up to maxSpare values.
func putSpare[T any](spare *[]*T, v *T) {
	if v != nil && len(*spare) < maxSpare {
		*spare = append(*spare, v)
	}
}

// slot returns the job in slot s.
func (t *jobTable) slot(s int32) *memJob { return t.slots.at(s) }

// data returns the packed job, which shares the arena's memory: the caller
// copies what it keeps.
func (t *jobTable) data(s int32) []byte {
	mj := t.slot(s)
	return t.arena.get(mj.piece)
}

func (t *jobTable) idBytes(s int32) []byte {
	b := t.data(s)
	n, k := binary.Uvarint(b)
	return b[k : k+int(n)]
}

// extra returns the slot's extra, nil when it has none.
func (t *jobTable) extra(s int32) *memExtra {
	if !t.slot(s).hasExtra() {
		return nil
	}
	return t.extras[s]
}

// ensureExtra returns the slot's extra, adding an empty one.
func (t *jobTable) ensureExtra(s int32) *memExtra {
	if e := t.extra(s); e != nil {
		return e
	}
	e := takeSpare(&t.spare)
	if e == nil {
		e = new(memExtra)
	}
	*e = memExtra{slot: s, claimIdx: -1}
	t.extras[s] = e
	t.slot(s).set(jobHasExtra, true)
	return e
}

func (t *jobTable) dropExtra(s int32) {
	if e := t.extras[s]; e != nil && len(t.spare) < maxSpare {
		*e = memExtra{} // holds no trigger or node
		t.spare = append(t.spare, e)
	}
	delete(t.extras, s)
	t.slot(s).set(jobHasExtra, false)
}

func (mj *memJob) held() (*piece, bool) { return &mj.piece, mj.live() }

// compactArena copies the data of a table's live slots (the job table's,
// the run archive's) into a new arena, dropping the space that removed
// ones left behind in chunks still partly in use.
func compactArena[T any, P interface {
	*T
	held() (*piece, bool) // where the slot's data is, and whether the slot is in use
}](a *arena, sl *slots[T]) {
	var fresh arena
	for s := range sl.len {
		if p, live := P(sl.at(s)).held(); live {
			*p = fresh.put(a.get(*p))
		}
	}
	*a = fresh
}

// arena keeps packed jobs and runs in chunks of chunkSize bytes; one
// larger than that gets a chunk of its own (n = 0 where it is kept). A
// chunk whose every piece was freed is reused at once, so data freed in
// the order it was put (a run history's evictions) is reclaimed without
// copying; other freed space is only counted, and compact reclaims it.
type arena struct {
	chunks     [][]byte
	used       []int   // per chunk: the bytes of its pieces still live
	spare      []int32 // chunks to reuse, emptied
	cur        int     // the chunk small pieces go into, when hasCur
	hasCur     bool
	live, dead int
}

const chunkSize = 64 << 10

// piece is where the arena keeps one packed job or run: n bytes at off in
// a chunk, or, with n = 0, a chunk of its own.
type piece struct {
	chunk  int32
	off, n uint16 // a chunk is 64 KiB; a piece of that or more has its own
}

func (a *arena) put(b []byte) piece {
	if len(b) >= chunkSize {
		c := a.chunk()
		a.chunks[c] = append([]byte(nil), b...)
		a.live += len(b)
		return piece{chunk: c}
	}
	if !a.hasCur || chunkSize-len(a.chunks[a.cur]) < len(b) {
		c := a.chunk()
		if cap(a.chunks[c]) < chunkSize {
			a.chunks[c] = make([]byte, 0, chunkSize)
		}
		a.cur, a.hasCur = int(c), true
	}
	c := a.chunks[a.cur]
	a.chunks[a.cur] = append(c, b...)
	a.used[a.cur] += len(b)
	a.live += len(b)
	return piece{int32(a.cur), uint16(len(c)), uint16(len(b))}
}

// chunk returns an empty chunk's number: a spare one, else a new one.
func (a *arena) chunk() int32 {
	if n := len(a.spare); n > 0 {
		c := a.spare[n-1]
		a.spare = a.spare[:n-1]
		return c
	}
	a.chunks = append(a.chunks, nil)
	a.used = append(a.used, 0)
	return int32(len(a.chunks) - 1)
}

func (a *arena) get(p piece) []byte {
	c := a.chunks[p.chunk]
	if p.n == 0 {
		return c[:len(c):len(c)]
	}
	end := int(p.off) + int(p.n)
	return c[p.off:end:end]
}

func (a *arena) free(p piece) {
	chunk, n := p.chunk, p.n
	if n == 0 { // a chunk of its own: give it back now
		a.live -= len(a.chunks[chunk])
		a.chunks[chunk] = nil
		a.spare = append(a.spare, chunk)
		return
	}
	a.live -= int(n)
	a.dead += int(n)
	if a.used[chunk] -= int(n); a.used[chunk] > 0 {
		return
	}
	a.dead -= len(a.chunks[chunk]) // every byte put there is free
	a.chunks[chunk] = a.chunks[chunk][:0]
	if !a.hasCur || int(chunk) != a.cur { // the current chunk just starts over
		a.spare = append(a.spare, chunk)
	}
}

// wasteful reports whether freed space outweighs the live data (and a few
// chunks), so compacting costs at most as much as the frees that led to it.
func (a *arena) wasteful() bool {
	return a.dead > a.live && a.dead > 4*chunkSize
}

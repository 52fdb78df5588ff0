package sundial

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"time"
	"unsafe"
)

// A packed job is the ID (length, bytes), then the fields not at their
// zero value, each a tag and its value; see pack.

// Field tags of a packed job. A field at its zero value is left out.
const (
	tagName byte = iota + 1
	tagTask
	tagArgs
	tagInterval // every, start, end, jitter
	tagDate     // at, jitter
	tagStart
	tagEnd
	tagGrace
	tagCoalesce
	tagOverlap
	tagExecutor
	tagJitter
	tagTimeout
	tagRetry // attempts, backoff, max backoff, multiplier bits
	tagSlowAfter
	tagTags
	tagMetadata
	tagVersion
	tagCreated
	tagUpdated
)

// locTable numbers the time zones of packed times: 0 is UTC, 1 Local.
// Zones are told apart by name and offsets, not by pointer: every
// time.Parse of "+09:00" makes a new *Location, and numbering each would
// grow the table by one per job.
type locTable struct {
	locs  []*time.Location
	index map[locKey]uint16
	last  *time.Location // the zone numbered last, and its number: jobs
	lastI uint16         // in one zone pack it without working out its key
}

// locKey identifies a zone: its name and its offsets in January and July
// (fixed zones that share a name differ there; an IANA name means one set
// of rules).
type locKey struct {
	name          string
	january, july int
}

// maxLocs bounds the table; a time in a zone beyond it is kept in UTC (the
// same instant).
const maxLocs = 1 << 15

func (t *locTable) id(l *time.Location) uint16 {
	switch l {
	case time.UTC, nil:
		return 0
	case time.Local:
		return 1
	case t.last:
		return t.lastI
	}
	_, jan := time.Date(2001, 1, 1, 0, 0, 0, 0, l).Zone()
	_, jul := time.Date(2001, 7, 1, 0, 0, 0, 0, l).Zone()
	k := locKey{l.String(), jan, jul}
	i, ok := t.index[k]
	switch {
	case ok:
	case len(t.locs) >= maxLocs:
		return 0
	default:
		if t.index == nil {
			t.index = map[locKey]uint16{}
		}
		i = uint16(len(t.locs) + 2)
		t.locs = append(t.locs, l)
		t.index[k] = i
	}
	t.last, t.lastI = l, i
	return i
}

func (t *locTable) loc(i uint16) *time.Location {
	switch i {
	case 0:
		return time.UTC
	case 1:
		return time.Local
	}
	return t.locs[i-2]
}

// pack stores j in a new slot of the job table, not yet in the due heap,
// and returns the slot; at is where find puts j.ID, which no job has (the
// caller removed any). The caller holds the store's lock (the zone table
// is shared).
func (m *MemoryStore) pack(j *Job, at place) int32 {
	p := packer{locs: &m.locs, b: m.scratch[:0]}
	p.b = binary.AppendUvarint(p.b, uint64(len(j.ID)))
	p.b = append(p.b, j.ID...)
	if j.Name != j.ID { // the usual name, the ID, is left out; "" is kept
		p.b = append(p.b, tagName)
		p.b = binary.AppendUvarint(p.b, uint64(len(j.Name)))
		p.b = append(p.b, j.Name...)
	}
	p.str(tagTask, j.Task)
	if len(j.Args) > 0 {
		p.str(tagArgs, string(j.Args))
	}
	packed := p.trigger(j.Trigger)
	p.times(tagStart, j.Start)
	p.times(tagEnd, j.End)
	p.num(tagGrace, int64(j.MisfireGrace))
	p.num(tagCoalesce, int64(j.Coalesce))
	p.num(tagOverlap, int64(j.Overlap))
	p.str(tagExecutor, j.Executor)
	p.num(tagJitter, int64(j.Jitter))
	p.num(tagTimeout, int64(j.Timeout))
	if j.Retry != (RetryPolicy{}) {
		p.b = append(p.b, tagRetry)
		p.b = binary.AppendVarint(p.b, int64(j.Retry.Attempts))
		p.b = binary.AppendVarint(p.b, int64(j.Retry.Backoff))
		p.b = binary.AppendVarint(p.b, int64(j.Retry.MaxBackoff))
		p.b = binary.AppendUvarint(p.b, math.Float64bits(j.Retry.Multiplier))
	}
	p.num(tagSlowAfter, int64(j.SlowAfter))
	p.list(tagTags, j.Tags)
	if len(j.Metadata) > 0 {
		kv := make([]string, 0, 2*len(j.Metadata))
		for k, v := range j.Metadata {
			kv = append(kv, k, v)
		}
		p.list(tagMetadata, kv)
	}
	p.num(tagVersion, j.Version)
	p.times(tagCreated, j.Created)
	if !j.Updated.Equal(j.Created) || j.Updated.Location() != j.Created.Location() {
		p.times(tagUpdated, j.Updated)
	}
	m.scratch = p.b
	s := m.jobs.insert(p.b, at)
	mj := m.jobs.slot(s)
	mj.maxInst = int32(j.MaxInstances)
	mj.set(jobPaused, j.Paused)
	mj.setNext(j.NextFire, &m.locs)
	if !packed {
		m.jobs.ensureExtra(s).trig = j.Trigger
	}
	return s
}

// setNext stores the next fire in the job's fields.
func (mj *memJob) setNext(t time.Time, locs *locTable) {
	if t.IsZero() {
		mj.nextSec, mj.nextNsec, mj.nextLoc = 0, 0, 0
		mj.set(jobHasNext, false)
		return
	}
	mj.nextSec, mj.nextNsec, mj.nextLoc = t.Unix(), int32(t.Nanosecond()), locs.id(t.Location())
	mj.set(jobHasNext, true)
}

func (mj *memJob) next(locs *locTable) time.Time {
	if !mj.hasNext() {
		return time.Time{}
	}
	return time.Unix(mj.nextSec, int64(mj.nextNsec)).In(locs.loc(mj.nextLoc))
}

// nextAfter reports whether the job's next fire is after t.
func (mj *memJob) nextAfter(t time.Time) bool {
	return laterThan(mj.nextSec, mj.nextNsec, t.Unix(), int32(t.Nanosecond()))
}

// nextBefore orders jobs by next fire.
func (mj *memJob) nextBefore(o *memJob) bool {
	return laterThan(o.nextSec, o.nextNsec, mj.nextSec, mj.nextNsec)
}

type packer struct {
	b    []byte
	locs *locTable
}

func (p *packer) str(tag byte, s string) {
	if s == "" {
		return
	}
	p.b = append(p.b, tag)
	p.b = binary.AppendUvarint(p.b, uint64(len(s)))
	p.b = append(p.b, s...)
}

func (p *packer) num(tag byte, v int64) {
	if v != 0 {
		p.b = append(p.b, tag)
		p.b = binary.AppendVarint(p.b, v)
	}
}

func (p *packer) list(tag byte, l []string) {
	if len(l) == 0 {
		return
	}
	p.b = append(p.b, tag)
	p.b = binary.AppendUvarint(p.b, uint64(len(l)))
	for _, s := range l {
		p.b = binary.AppendUvarint(p.b, uint64(len(s)))
		p.b = append(p.b, s...)
	}
}

func (p *packer) times(tag byte, t time.Time) {
	if !t.IsZero() {
		p.b = append(p.b, tag)
		p.time(t)
	}
}

// time writes t as seconds, nanoseconds and zone, the zero Time as a lone 0
// zone marker so optional times inside a trigger need no tag of their own.
func (p *packer) time(t time.Time) {
	if t.IsZero() {
		p.b = append(p.b, 0)
		return
	}
	p.b = binary.AppendUvarint(p.b, uint64(p.locs.id(t.Location()))+1)
	p.b = binary.AppendVarint(p.b, t.Unix())
	p.b = binary.AppendUvarint(p.b, uint64(t.Nanosecond()))
}

// trigger encodes the trigger kinds whose every field it can write, and
// reports whether it did.
func (p *packer) trigger(t Trigger) bool {
	switch t := t.(type) {
	case *IntervalTrigger:
		p.b = append(p.b, tagInterval)
		p.b = binary.AppendVarint(p.b, int64(t.every))
		p.time(t.start)
		p.time(t.end)
		p.b = binary.AppendVarint(p.b, int64(t.jitter))
	case *DateTrigger:
		p.b = append(p.b, tagDate)
		p.time(t.at)
		p.b = binary.AppendVarint(p.b, int64(t.jitter))
	default:
		return false
	}
	return true
}

// unpack rebuilds the job in slot s. The caller holds the store's lock.
func (m *MemoryStore) unpack(s int32) *Job {
	return m.unpackInto(new(Job), s)
}

// unpackInto rebuilds the job in slot s in j, which it overwrites whole:
// nothing of what j held before is kept or written to.
func (m *MemoryStore) unpackInto(j *Job, s int32) *Job {
	// One copy, which the job's strings share.
	return m.unpackFrom(j, s, unpacker{s: string(m.jobs.data(s)), locs: &m.locs})
}

// unpackClaimed is unpackInto for a claim, which a job that fires every
// second makes every second: it copies no more of the packed job than
// it must. The job's strings are jr's (the job's runs, nil if it has
// none) where they match, and its interval or date trigger is one a
// claim released (releaseDue) where one is spare.
func (m *MemoryStore) unpackClaimed(j *Job, s int32, jr *jobRuns) *Job {
	data := m.jobs.data(s)
	u := unpacker{s: unsafe.String(unsafe.SliceData(data), len(data)), locs: &m.locs, borrowed: true}
	if jr != nil {
		u.known = [...]string{jr.jobID, jr.task, jr.executor}
	}
	u.intervals, u.dates = &m.spareIntervals, &m.spareDates
	return m.unpackFrom(j, s, u)
}

func (m *MemoryStore) unpackFrom(j *Job, s int32, u unpacker) *Job {
	mj := m.jobs.slot(s)
	id := u.str()
	*j = Job{ID: id, Name: id, Paused: mj.paused(), NextFire: mj.next(&m.locs), MaxInstances: int(mj.maxInst)}
	if e := m.jobs.extra(s); e != nil {
		j.Trigger = e.trig
	}
	for u.s != "" {
		u.field(j)
	}
	return j
}

// unpacker reads a packed job. Borrowed, s is the store's memory itself,
// which changes once the lock is let go: every string read is then the
// job's own (one of known, or a copy).
type unpacker struct {
	s        string
	locs     *locTable
	borrowed bool
	known    [3]string

	// Where a claim's unpacking takes the job's trigger from, if a spare
	// is there; nil otherwise.
	intervals *[]*IntervalTrigger
	dates     *[]*DateTrigger
}

func (u *unpacker) field(j *Job) {
	tag := u.s[0]
	u.s = u.s[1:]
	switch tag {
	case tagName:
		j.Name = u.str()
	case tagTask:
		j.Task = u.str()
	case tagArgs:
		j.Args = json.RawMessage(u.raw()) // a copy
	case tagInterval:
		t := spareOrNew(u.intervals)
		*t = IntervalTrigger{every: time.Duration(u.varint()), start: u.time(), end: u.time(), jitter: time.Duration(u.varint())}
		j.Trigger = t
	case tagDate:
		t := spareOrNew(u.dates)
		*t = DateTrigger{at: u.time(), jitter: time.Duration(u.varint())}
		j.Trigger = t
	case tagStart:
		j.Start = u.time()
	case tagEnd:
		j.End = u.time()
	case tagGrace:
		j.MisfireGrace = time.Duration(u.varint())
	case tagCoalesce:
		j.Coalesce = CoalescePolicy(u.varint())
	case tagOverlap:
		j.Overlap = OverlapPolicy(u.varint())
	case tagExecutor:
		j.Executor = u.str()
	case tagJitter:
		j.Jitter = time.Duration(u.varint())
	case tagTimeout:
		j.Timeout = time.Duration(u.varint())
	case tagRetry:
		j.Retry = RetryPolicy{Attempts: int(u.varint()), Backoff: time.Duration(u.varint()),
			MaxBackoff: time.Duration(u.varint()), Multiplier: math.Float64frombits(u.uvarint())}
	case tagSlowAfter:
		j.SlowAfter = time.Duration(u.varint())
	case tagTags:
		j.Tags = u.list()
	case tagMetadata:
		kv := u.list()
		j.Metadata = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			j.Metadata[kv[i]] = kv[i+1]
		}
	case tagVersion:
		j.Version = u.varint()
	case tagCreated:
		j.Created = u.time()
		j.Updated = j.Created
	case tagUpdated:
		j.Updated = u.time()
	default:
		panic("sundial: memory store: corrupt packed job (tag " + itoa64(int64(tag)) + ")")
	}
}

func (u *unpacker) uvarint() uint64 {
	var x uint64
	for i, shift := 0, uint(0); i < len(u.s); i, shift = i+1, shift+7 {
		b := u.s[i]
		if b < 0x80 {
			u.s = u.s[i+1:]
			return x | uint64(b)<<shift
		}
		x |= uint64(b&0x7f) << shift
	}
	panic("sundial: memory store: corrupt packed job (truncated number)")
}

func (u *unpacker) varint() int64 {
	ux := u.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// str returns the next string: it shares the packed job's copy, or,
// borrowed, is one of known or a copy of its own.
func (u *unpacker) str() string {
	s := u.raw()
	if !u.borrowed {
		return s
	}
	for _, k := range u.known {
		if k == s {
			return k
		}
	}
	return strings.Clone(s)
}

// raw returns the next string as it is packed, for a caller that copies
// it.
func (u *unpacker) raw() string {
	n := int(u.uvarint())
	s := u.s[:n]
	u.s = u.s[n:]
	return s
}

// spareOrNew takes a value kept for reuse off *spare, or, when spare is
// nil or holds none, returns a new one.
func spareOrNew[T any](spare *[]*T) *T {
	if spare != nil {
		if v := takeSpare(spare); v != nil {
			return v
		}
	}
	return new(T)
}

func (u *unpacker) list(dst ...string) []string {
	n := int(u.uvarint())
	for range n {
		dst = append(dst, u.str())
	}
	return dst
}

func (u *unpacker) time() time.Time {
	loc := u.uvarint()
	if loc == 0 {
		return time.Time{}
	}
	sec := u.varint()
	return time.Unix(sec, int64(u.uvarint())).In(u.locs.loc(uint16(loc - 1)))
}

package sundial

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"
	"unsafe"
)

// TestMemoryStoreHistoryStaysBounded: runs dropped by the per-job bound must
// not linger in the store's global order of finished runs, or a process
// with many jobs grows without limit while staying under MaxRuns.
func TestMemoryStoreHistoryStaysBounded(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{MaxRunsPerJob: 2, MaxRuns: 1000000})
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10000 {
		at := base.Add(time.Duration(i) * time.Second)
		r := &Run{ID: fmt.Sprintf("r%05d", i), JobID: fmt.Sprintf("job-%d", i%10), Scheduled: at, Attempt: 1,
			State: RunSucceeded, Finished: at}
		addRun(t, m, r)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done.ids.used != 20 || m.done.kept != 20 {
		t.Fatalf("kept %d runs (counted %d), want 2 per job for 10 jobs", m.done.ids.used, m.done.kept)
	}
	if m.done.order.len() > 4*20 {
		t.Errorf("the finished-run order holds %d entries for 20 kept runs", m.done.order.len())
	}
}

// TestMemoryStorePackRoundTrip: a job the memory store packs comes back
// exactly as it went in, every field and time zone included.
func TestMemoryStorePackRoundTrip(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul") // time/tzdata is linked in: no machine lacks it
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 10, 9, 30, 0, 123456789, seoul)
	cron, err := Cron("0 9 * * MON", &CronOptions{TimeZone: "Asia/Seoul"})
	if err != nil {
		t.Fatal(err)
	}
	full := &Job{ID: "full", Name: "", Task: "t", Args: json.RawMessage(`{"a":1}`),
		Trigger: MustEvery(time.Minute, &IntervalOptions{Start: at, End: at.Add(time.Hour), Jitter: time.Second}),
		Start:   at.UTC(), End: at.Add(time.Hour).Local(), NextFire: at, MisfireGrace: 3 * time.Second,
		Coalesce: CoalesceAll, MaxInstances: 3, Overlap: OverlapQueueAll, Executor: "io", Jitter: 2 * time.Second,
		Timeout: time.Minute, Retry: RetryPolicy{Attempts: 4, Backoff: time.Second, MaxBackoff: time.Minute, Multiplier: 1.5},
		SlowAfter: -1, Paused: true, Tags: []string{"a", ""}, Metadata: map[string]string{"k": "v", "": ""},
		Version: 9, Created: at.Add(-time.Hour), Updated: at.In(time.UTC)}
	for _, j := range []*Job{
		{ID: "min", Name: "min", Task: "t", Trigger: MustEvery(time.Hour, nil)},
		{ID: "date", Name: "d", Task: "t", Trigger: mustAt(t, at), NextFire: at.Add(time.Nanosecond)},
		{ID: "cron", Name: "cron", Task: "t", Trigger: cron, Created: at, Updated: at},
		{ID: "far", Name: "far", Task: "t", Trigger: MustEvery(time.Hour, nil), NextFire: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
		full,
	} {
		m := NewMemoryStore(MemoryConfig{})
		m.mu.Lock()
		s := m.pack(j, m.jobs.find(j.ID))
		got := m.unpack(s)
		claimed := m.unpackClaimed(new(Job), s, nil)
		known := m.unpackClaimed(new(Job), s, &jobRuns{jobID: strings.Clone(j.ID), task: "t", executor: "io"})
		m.mu.Unlock()
		for _, g := range []struct {
			how string
			got *Job
		}{{"unpack", got}, {"unpackClaimed", claimed}, {"unpackClaimed, the runs known", known}} {
			if !reflect.DeepEqual(g.got, j) {
				t.Errorf("%s, %s:\n got %#v\nwant %#v", j.ID, g.how, g.got, j)
			}
		}
	}
}

// TestMemoryStoreClaimedJobsOwnTheirStrings: a claim unpacks a job
// without copying it whole (unpackClaimed reads the packed job where the
// store keeps it), so every string of the claimed job must be its own or
// its runs' record's: writing over the packed job's memory once the job
// is removed changes none of them.
func TestMemoryStoreClaimedJobsOwnTheirStrings(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, withRuns := range []bool{false, true} {
		m := NewMemoryStore(MemoryConfig{})
		rich := func(id, text string) *Job {
			return &Job{ID: id, Name: "name-" + text, Task: "task-" + text, Args: json.RawMessage(`"` + text + `"`),
				Trigger: MustEvery(time.Minute, nil), NextFire: now, Executor: "ex-" + text,
				Tags: []string{"tag-" + text}, Metadata: map[string]string{"key-" + text: "value-" + text}}
		}
		if _, err := m.AddJob(ctx, rich("job-a", "aaaa"), ConflictError, now); err != nil {
			t.Fatal(err)
		}
		if withRuns { // the job's runs' record holds its ID, task and executor, which a claim then shares
			addRun(t, m, &Run{ID: "r1", JobID: "job-a", Task: "task-aaaa", Executor: "ex-aaaa", Scheduled: now.Add(-time.Hour),
				Due: now.Add(-time.Hour), Attempt: 1, State: RunSucceeded, Created: now})
		}
		due, err := m.ClaimDueJobs(ctx, JobClaim{Node: "n", Now: now, Horizon: now, Lease: time.Minute})
		if err != nil || len(due) != 1 {
			t.Fatalf("claimed %d jobs: %v", len(due), err)
		}
		strs := func(j *Job) []any { return []any{j.ID, j.Name, j.Task, string(j.Args), j.Executor, j.Tags, j.Metadata} }
		want := strs(rich("job-a", "aaaa"))
		if err := m.RemoveJob(ctx, "job-a"); err != nil {
			t.Fatal(err)
		}
		for i := range 50 { // the same sizes, into the freed memory
			if _, err := m.AddJob(ctx, rich(fmt.Sprintf("job-%c", 'b'+i), "zzzz"), ConflictError, now); err != nil {
				t.Fatal(err)
			}
		}
		if got := strs(due[0].Job); !reflect.DeepEqual(got, want) {
			t.Errorf("with runs %v, the claimed job changed with the store's memory:\n got %q\nwant %q", withRuns, got, want)
		}
	}
}

func mustAt(t *testing.T, at time.Time) *DateTrigger {
	d, err := At(at, &DateOptions{Jitter: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestMemoryStoreZonesDeduplicated: times parsed from "+09:00" each carry
// a new *time.Location; the store numbers zones by name and offsets, so
// its table does not grow by one per job.
func TestMemoryStoreZonesDeduplicated(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{})
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range 1000 {
		at, err := time.Parse(time.RFC3339, "2024-01-01T09:00:00+09:00")
		if err != nil {
			t.Fatal(err)
		}
		j := &Job{ID: fmt.Sprint(i), Name: fmt.Sprint(i), Task: "t", Trigger: MustEvery(time.Hour, nil), Start: at, NextFire: at}
		if got := m.unpack(m.pack(j, m.jobs.find(j.ID))); !got.Start.Equal(at) || got.Start.Format(time.RFC3339) != "2024-01-01T09:00:00+09:00" {
			t.Fatalf("start came back as %s", got.Start.Format(time.RFC3339))
		}
	}
	other := time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", -5*3600))
	m.pack(&Job{ID: "x", Name: "x", Task: "t", Trigger: MustEvery(time.Hour, nil), Start: other}, m.jobs.find("x"))
	if len(m.locs.locs) != 2 {
		t.Errorf("the zone table holds %d zones for two offsets", len(m.locs.locs))
	}
}

// FuzzMemoryStorePack: whatever a job holds, the memory store's packed
// form gives it back unchanged.
func FuzzMemoryStorePack(f *testing.F) {
	f.Add("id", "name", "task", []byte(`{"a":1}`), int64(60e9), int64(1700000000), int64(5), 3, "tag", "k", "v", int64(-1), 1.5, true)
	f.Add("", "", "", []byte(nil), int64(1), int64(0), int64(0), 0, "", "", "", int64(0), 0.0, false)
	f.Fuzz(func(t *testing.T, id, name, task string, args []byte, every, startSec, nsec int64, maxInst int, tag, k, v string, slow int64, mult float64, paused bool) {
		if every <= 0 {
			every = 1
		}
		zone := time.FixedZone(tag, int(nsec%50000))
		start := time.Unix(startSec%(1<<40), nsec%1e9).In(zone)
		if start.IsZero() || nsec%1e9 < 0 {
			start = time.Time{}
		}
		j := &Job{ID: id, Name: name, Task: task, Args: args, Trigger: MustEvery(time.Duration(every), &IntervalOptions{Start: start}),
			Start: start, NextFire: start, MaxInstances: int(int32(maxInst)), SlowAfter: time.Duration(slow), Paused: paused,
			Retry: RetryPolicy{Attempts: maxInst, Multiplier: mult}, Tags: []string{tag}, Metadata: map[string]string{k: v},
			Version: slow, Created: start, Updated: start.Add(time.Duration(every))}
		if len(args) == 0 {
			j.Args = nil
		}
		m := NewMemoryStore(MemoryConfig{})
		m.mu.Lock()
		s := m.pack(j, m.jobs.find(j.ID))
		got := m.unpack(s)
		// A claim's unpacking, with the job's run record (whose task is
		// the job's name, to match some strings and not others) and
		// without, and into a released trigger.
		m.spareIntervals = append(m.spareIntervals, new(IntervalTrigger))
		claimed := m.unpackClaimed(new(Job), s, &jobRuns{jobID: strings.Clone(id), task: strings.Clone(name)})
		bare := m.unpackClaimed(new(Job), s, nil)
		m.mu.Unlock()
		if mult != mult { // NaN never equals itself; compare its bits instead
			if math.Float64bits(got.Retry.Multiplier) != math.Float64bits(mult) {
				t.Fatalf("multiplier %v came back as %v", mult, got.Retry.Multiplier)
			}
			got.Retry.Multiplier, claimed.Retry.Multiplier, bare.Retry.Multiplier, j.Retry.Multiplier = 0, 0, 0, 0
		}
		if !sameJob(got, j) {
			t.Fatalf("\n got %#v\nwant %#v", got, j)
		}
		if !sameJob(claimed, j) || !sameJob(bare, j) {
			t.Fatalf("claimed:\n got %#v\n and %#v\nwant %#v", claimed, bare, j)
		}
	})
}

// sameJob compares jobs field by field, times by instant and zone offset
// (zones are numbered by name and offsets, so an equal zone may come back
// as another *time.Location).
func sameJob(a, b *Job) bool {
	sameTime := func(x, y time.Time) bool {
		_, ox := x.Zone()
		_, oy := y.Zone()
		return x.Equal(y) && ox == oy && x.Location().String() == y.Location().String()
	}
	ta, tb := *a.Trigger.(*IntervalTrigger), *b.Trigger.(*IntervalTrigger)
	if !sameTime(ta.start, tb.start) || ta.every != tb.every || ta.jitter != tb.jitter || !sameTime(ta.end, tb.end) {
		return false
	}
	for _, p := range [][2]time.Time{{a.Start, b.Start}, {a.End, b.End}, {a.NextFire, b.NextFire}, {a.Created, b.Created}, {a.Updated, b.Updated}} {
		if !sameTime(p[0], p[1]) {
			return false
		}
	}
	x, y := *a, *b
	x.Trigger, y.Trigger = nil, nil
	x.Start, x.End, x.NextFire, x.Created, x.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	y.Start, y.End, y.NextFire, y.Created, y.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(&x, &y)
}

// TestJobTableReclaimsSpace: jobs replaced over and over, some larger than
// an arena chunk, leave at most as much dead space as live data (and a few
// chunks), and every job comes back as last stored.
func TestJobTableReclaimsSpace(t *testing.T) {
	for _, oneHash := range []bool{false, true} {
		m := NewMemoryStore(MemoryConfig{})
		if oneHash {
			m = NewMemoryStoreOneHash(MemoryConfig{})
		}
		ctx := context.Background()
		now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		big := `"` + string(make([]byte, chunkSize)) + `"`
		big = strings.ReplaceAll(big, "\x00", "x")
		want := map[string]string{}
		for round := range 40 {
			for i := range 200 {
				id := fmt.Sprintf("job-%d", i)
				args := fmt.Sprintf(`{"round":%d,"pad":%q}`, round, strings.Repeat("p", i%7*100))
				if i%50 == round%50 {
					args = fmt.Sprintf(`{"round":%d,"big":%s}`, round, big)
				}
				j := &Job{ID: id, Task: "t", Args: json.RawMessage(args), Trigger: MustEvery(time.Hour, nil), NextFire: now}
				if _, err := m.AddJob(ctx, j, ConflictReplace, now); err != nil {
					t.Fatal(err)
				}
				want[id] = args
			}
			if round%3 == 2 { // remove a few, and add them back next round
				for i := round % 10; i < 200; i += 10 {
					id := fmt.Sprintf("job-%d", i)
					if err := m.RemoveJob(ctx, id); err != nil {
						t.Fatal(err)
					}
					delete(want, id)
				}
			}
			m.mu.Lock()
			a := m.jobs.arena
			if a.dead > max(a.live, 4*chunkSize) {
				t.Fatalf("round %d (one hash %v): %d dead bytes beside %d live", round, oneHash, a.dead, a.live)
			}
			if m.jobs.count() != len(want) {
				t.Fatalf("round %d: the table counts %d jobs, want %d", round, m.jobs.count(), len(want))
			}
			m.mu.Unlock()
		}
		jobs, err := m.ListJobs(ctx, JobFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != len(want) {
			t.Fatalf("listed %d jobs, want %d", len(jobs), len(want))
		}
		for _, j := range jobs {
			if string(j.Args) != want[j.ID] {
				t.Fatalf("%s came back with args of %d bytes, want %d", j.ID, len(j.Args), len(want[j.ID]))
			}
		}
		m.mu.Lock()
		if slots := int(m.jobs.slots.len); slots > 200 {
			t.Errorf("%d slots for at most 200 jobs at once: freed slots are not reused", slots)
		}
		m.mu.Unlock()
	}
}

// TestMemoryStoreCommitNoticesBatched: a CommitFires of many jobs wakes a
// subscriber once per kind, with the earliest next fire, not once per
// job; a commit of one job still names it.
func TestMemoryStoreCommitNoticesBatched(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{})
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"a", "b", "c"} {
		j := &Job{ID: id, Task: "t", Trigger: MustEvery(time.Minute, nil), NextFire: now}
		if _, err := m.AddJob(ctx, j, ConflictError, now); err != nil {
			t.Fatal(err)
		}
	}
	var got []Notice
	defer m.Subscribe(func(n Notice) { got = append(got, n) })()
	commitAll := func(ids ...string) {
		due, err := m.ClaimDueJobs(ctx, JobClaim{Node: "n", Now: now, Horizon: now.Add(time.Hour), Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		var commits []FireCommit
		for i, d := range due {
			r := &Run{ID: d.Job.ID + now.Format("150405"), JobID: d.Job.ID, Task: "t", Scheduled: now, Due: now, Attempt: 1, State: RunPending}
			commits = append(commits, FireCommit{JobID: d.Job.ID, Token: d.Token, Runs: []*Run{r},
				NextFire: now.Add(time.Duration(3-i) * time.Minute)})
		}
		if len(commits) != len(ids) {
			t.Fatalf("claimed %d jobs, want %d", len(commits), len(ids))
		}
		if _, err := m.CommitFires(ctx, commits, now); err != nil {
			t.Fatal(err)
		}
	}
	commitAll("a", "b", "c")
	want := []Notice{{Kind: NoticeJobsChanged, NextFire: now.Add(time.Minute)}, {Kind: NoticeRunsCreated}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("three commits gave notices %+v, want %+v", got, want)
	}
	got = nil
	if err := m.RemoveJob(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveJob(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	got = nil
	now = now.Add(3 * time.Minute)
	commitAll("a")
	want = []Notice{{Kind: NoticeJobsChanged, JobID: "a", NextFire: now.Add(3 * time.Minute)}, {Kind: NoticeRunsCreated, JobID: "a"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("one commit gave notices %+v, want %+v", got, want)
	}

	// Run ends recorded together: one notice that runs finished, and one
	// that retries were created, for the batch.
	runs, err := m.ClaimRuns(ctx, RunClaim{Node: "n", Now: now, Horizon: now, Limit: map[string]int{"default": 10}})
	if err != nil || len(runs) != 3 {
		t.Fatalf("claimed %d runs, %v; want a's, b's and c's first runs", len(runs), err)
	}
	var ends []RunEnd
	for i, r := range runs {
		r.State, r.Started, r.Finished = RunFailed, now, now
		e := RunEnd{Run: r}
		if i == 0 {
			e.Retry = &Run{ID: r.ID + "-2", JobID: r.JobID, Task: "t", Scheduled: r.Scheduled, Due: now, Attempt: 2, State: RunPending}
		}
		ends = append(ends, e)
	}
	got = nil
	for _, err := range m.FinishRuns(ctx, ends) {
		if err != nil {
			t.Fatal(err)
		}
	}
	want = []Notice{{Kind: NoticeRunFinished}, {Kind: NoticeRunsCreated, JobID: runs[0].JobID}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("three run ends gave notices %+v, want %+v", got, want)
	}
}

// TestMemoryStoreForgetsJobsWithoutRuns: a job whose last kept run was
// evicted leaves nothing behind, so a stream of one-off jobs does not grow
// the store without limit.
func TestMemoryStoreForgetsJobsWithoutRuns(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{MaxRuns: 10})
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		r := &Run{ID: fmt.Sprintf("r%04d", i), JobID: fmt.Sprintf("once-%04d", i), Scheduled: at, Attempt: 1,
			State: RunSucceeded, Finished: at}
		addRun(t, m, r)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.byJob) > 10 || m.done.ids.used > 10 || m.done.keys.used > 10 || m.done.slots.inUse() > 10 {
		t.Errorf("after 1,000 one-off runs with MaxRuns 10 the store keeps %d jobs' runs, %d runs, %d keys, %d slots",
			len(m.byJob), m.done.ids.used, m.done.keys.used, m.done.slots.inUse())
	}
}

// TestMemoryStoreRunsDoNotPinTheirJob: runs are built from an unpacked
// job, whose strings share one copy of the whole packed job; the runs the
// store keeps must not hold on to it, or a history keeps a copy of the
// job's arguments and metadata per run.
func TestMemoryStoreRunsDoNotPinTheirJob(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{})
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	heap := func() uint64 { return heapAfterGC().HeapAlloc }
	before := heap()
	for i := range 8 {
		packed := strings.Repeat("x", 4<<20) + fmt.Sprintf("job-%d task executor", i) // 4 MiB, like a job with large metadata
		id, task, executor := packed[4<<20:4<<20+5], packed[4<<20+6:4<<20+10], packed[4<<20+11:]
		r := &Run{ID: fmt.Sprintf("r%d", i), JobID: id, Task: task, Executor: executor, Scheduled: at, Attempt: 1,
			State: RunSucceeded, Finished: at}
		addRun(t, m, r)
	}
	if grew := int64(heap()) - int64(before); grew > 4<<20 {
		t.Errorf("8 runs of 8 jobs keep %d KiB: they pin the strings they were built from", grew>>10)
	}
	runtime.KeepAlive(m)
}

// TestArenaReusesFreedChunks: pieces freed in the order they were put (a
// run history's evictions) give their chunks back whole, without waiting
// for a compaction, so the arena does not grow and counts nothing dead.
func TestArenaReusesFreedChunks(t *testing.T) {
	var a arena
	data := make([]byte, 1<<10)
	var held []piece
	for round := range 20 {
		for range 64 { // a chunk's worth a round
			held = append(held, a.put(data))
		}
		for len(held) > 128 { // keep two chunks' worth, free the oldest
			a.free(held[0])
			held = held[1:]
		}
		if len(a.chunks) > 4 || a.dead > 64<<10 {
			t.Fatalf("round %d: %d chunks, %d dead bytes, for %d live", round, len(a.chunks), a.dead, a.live)
		}
	}
	if a.live != 128<<10 {
		t.Errorf("live = %d, want %d", a.live, 128<<10)
	}
}

// TestArenaPiecesAtTheChunkSize: a piece's offset and length are 16
// bits, so pieces of a chunk's size or more get a chunk of their own, and
// every size around the bound, at every offset, reads back whole.
func TestArenaPiecesAtTheChunkSize(t *testing.T) {
	var a arena
	type put struct {
		p    piece
		data []byte
	}
	var all []put
	for i, n := range []int{1, chunkSize - 1, 1, chunkSize, 2, chunkSize + 1, chunkSize - 2, 3, 1000, chunkSize - 1000} {
		data := make([]byte, n)
		for k := range data {
			data[k] = byte(i + k)
		}
		p := a.put(data)
		if n >= chunkSize && p.n != 0 {
			t.Fatalf("a piece of %d bytes shares a chunk (n = %d)", n, p.n)
		}
		all = append(all, put{p, data})
	}
	for i, x := range all {
		if got := a.get(x.p); !bytes.Equal(got, x.data) {
			t.Fatalf("piece %d (%d bytes at %d): read back %d bytes, not what was put", i, len(x.data), x.p.off, len(got))
		}
	}
	for _, x := range all {
		a.free(x.p)
	}
	if a.live != 0 || slices.ContainsFunc(a.used, func(n int) bool { return n != 0 }) {
		t.Fatalf("every piece freed, yet live = %d and chunks hold %v bytes", a.live, a.used)
	}
	if n := unsafe.Sizeof(memJob{}); n != 32 {
		t.Errorf("a job's slot is %d bytes, want 32", n)
	}
}

// TestMemoryStoreHistoryHoldsFewObjects: the finished runs the store keeps
// are packed, so a long history adds almost no objects for a collection
// to mark (each was a run, a record and map entries, marked at every
// collection while runs were due).
func TestMemoryStoreHistoryHoldsFewObjects(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{MaxRuns: 20000})
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	objects := func() uint64 { return heapAfterGC().HeapObjects }
	add := func(from, to int) {
		for i := from; i < to; i++ {
			r := &Run{ID: fmt.Sprintf("r%06d", i), JobID: fmt.Sprintf("job-%d", i%100), Task: "t", Scheduled: at.Add(time.Duration(i) * time.Second),
				Attempt: 1, State: RunSucceeded, Node: "n", Started: at, Finished: at, Error: "boom"}
			addRun(t, m, r)
		}
	}
	add(0, 1000) // the 100 jobs' entries and the tables' first growth
	before := objects()
	add(1000, 20000)
	if grew := int64(objects()) - int64(before); grew > 2000 {
		t.Errorf("19,000 more finished runs added %d heap objects", grew)
	}
	runtime.KeepAlive(m)
}

// TestMemoryStorePruneUnpacksNoRun: pruning by age compares each
// archived run's end where its slot keeps it, under the store's lock,
// without unpacking the run: ten thousand runs kept cost no allocation
// each, and the ones past the age go.
func TestMemoryStorePruneUnpacksNoRun(t *testing.T) {
	const runs = 10000
	m := NewMemoryStore(MemoryConfig{MaxRuns: runs, MaxRunsPerJob: runs})
	ctx := context.Background()
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range runs {
		end := at.Add(time.Duration(i) * time.Second)
		r := &Run{ID: fmt.Sprintf("r%06d", i), JobID: fmt.Sprintf("job-%d", i%10), Task: "t", Scheduled: end,
			Attempt: 1, State: RunSucceeded, Node: "n", Started: end, Finished: end}
		addRun(t, m, r)
	}
	keepAll := Retention{MaxAge: 24 * time.Hour}
	now := at.Add(time.Hour)
	if allocs := testing.AllocsPerRun(5, func() {
		if n, err := m.PruneRuns(ctx, keepAll, now); n != 0 || err != nil {
			t.Fatalf("PruneRuns kept none of %d runs within the age: %d, %v", runs, n, err)
		}
	}); allocs > 100 {
		t.Errorf("PruneRuns over %d runs it keeps allocated %.0f times", runs, allocs)
	}
	// Runs finished at second 0 to 99 are older than an age of
	// runs-100 seconds at the last run's end.
	if n, err := m.PruneRuns(ctx, Retention{MaxAge: (runs - 100) * time.Second}, at.Add((runs-1)*time.Second)); n != 99 || err != nil {
		t.Fatalf("PruneRuns = %d, %v; want the 99 runs that ended over the age ago", n, err)
	}
}

// TestMemoryStoreRunPackRoundTrip: a finished run comes back from the
// archive exactly as it went in, every field and time zone included, by ID
// and in listings; its fire key still refuses a second run of the fire.
func TestMemoryStoreRunPackRoundTrip(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 10, 9, 30, 0, 123456789, seoul)
	full := &Run{ID: "r-full", JobID: "job", Task: "t", Args: json.RawMessage(`{"a":1}`), Scheduled: at,
		Due: at.Add(time.Second).UTC(), Jitter: time.Second, Manual: true, Attempt: 3, State: RunFailed, Reason: "why",
		Node: "node-1", Executor: "io", Fence: 1 << 40, Timeout: time.Minute, SlowAfter: -1,
		Created: at.Add(-time.Hour).Local(), Started: at.Add(2 * time.Second), Finished: at.Add(3 * time.Second),
		Error: "boom", Stack: "goroutine 1 [running]:\n..."}
	bare := &Run{ID: "r-bare", JobID: "job", Scheduled: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Attempt: 1,
		State: RunMissed, Created: at}
	for _, oneHash := range []bool{false, true} {
		m := NewMemoryStore(MemoryConfig{})
		if oneHash {
			m = NewMemoryStoreOneHash(MemoryConfig{})
		}
		ctx := context.Background()
		if _, err := m.AddRuns(ctx, []*Run{full.Clone(), bare.Clone()}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []*Run{full, bare} {
			got, err := m.GetRun(ctx, want.ID)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("one hash %v: GetRun(%s) = %+v, %v\nwant %+v", oneHash, want.ID, got, err, want)
			}
		}
		listed, err := m.ListRuns(ctx, RunFilter{JobID: "job"})
		if err != nil || len(listed) != 2 || !reflect.DeepEqual(listed[0], full) || !reflect.DeepEqual(listed[1], bare) {
			t.Errorf("one hash %v: ListRuns = %+v, %v", oneHash, listed, err)
		}
		again := full.Clone()
		again.ID, again.State = "r-again", RunPending
		if got, err := m.AddRuns(ctx, []*Run{again}); err != nil || len(got) != 0 {
			t.Errorf("one hash %v: a second run of an archived fire was inserted: %v, %v", oneHash, got, err)
		}
	}
}

// TestMemoryStoreReleasedJobsShareNothing: a claim's jobs handed back with
// releaseDue are unpacked into again by later claims, and so are their
// triggers. What was decided from them keeps its values, a job unpacked
// into a released one carries nothing of the job before, and the store's
// own job is untouched.
func TestMemoryStoreReleasedJobsShareNothing(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{})
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rich := &Job{ID: "rich", Task: "t1", Args: json.RawMessage(`{"a":1}`), Trigger: MustEvery(time.Minute, nil), NextFire: now,
		Tags: []string{"x"}, Metadata: map[string]string{"k": "v"}, Timeout: time.Minute, Executor: "io"}
	plain := &Job{ID: "plain", Task: "t2", Trigger: MustEvery(2*time.Minute, nil), NextFire: now.Add(time.Second)}
	for _, j := range []*Job{rich, plain} {
		if _, err := m.AddJob(ctx, j, ConflictError, now); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(at time.Time) DueJob {
		due, err := m.ClaimDueJobs(ctx, JobClaim{Node: "n", Now: at, Horizon: at, Lease: time.Minute, Limit: 1})
		if err != nil || len(due) != 1 {
			t.Fatalf("claimed %d jobs at %v: %v", len(due), at, err)
		}
		return due[0]
	}
	first := claim(now)
	task, args := first.Job.Task, first.Job.Args // what a decided run keeps
	trig := first.Job.Trigger
	m.releaseDue([]DueJob{first})
	second := claim(now.Add(time.Second))
	if second.Job != first.Job {
		t.Fatal("the released job was not unpacked into again")
	}
	if second.Job.Trigger != trig {
		t.Error("the released job's trigger was not unpacked into again")
	}
	if iv, ok := second.Job.Trigger.(*IntervalTrigger); !ok || iv.Interval() != 2*time.Minute {
		t.Errorf("the job unpacked into a released one has trigger %v, want every 2m", second.Job.Trigger)
	}
	if got, err := m.GetJob(ctx, "rich"); err != nil || got.Trigger.(*IntervalTrigger).Interval() != time.Minute {
		t.Errorf("the store's job after its trigger was reused: %v, %v", got, err)
	}
	if task != "t1" || string(args) != `{"a":1}` {
		t.Errorf("after reuse the first job's task and args read %q, %s", task, args)
	}
	got := second.Job
	if got.ID != "plain" || got.Task != "t2" || got.Args != nil || got.Tags != nil || got.Metadata != nil ||
		got.Timeout != 0 || got.Executor != "" {
		t.Errorf("the job unpacked into a released one: %+v", got)
	}
}

// TestMemoryStoreReusesOnlyReleasedClaims: a claim appends into the array
// of a claim handed back with releaseDue, never into one its caller kept.
func TestMemoryStoreReusesOnlyReleasedClaims(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{})
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		j := &Job{ID: fmt.Sprintf("j%d", i), Task: "t", Trigger: MustEvery(time.Minute, nil), NextFire: now.Add(time.Duration(i) * time.Second)}
		if _, err := m.AddJob(ctx, j, ConflictError, now); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(at time.Time) []DueJob {
		due, err := m.ClaimDueJobs(ctx, JobClaim{Node: "n", Now: at, Horizon: at, Lease: time.Minute, Limit: 1})
		if err != nil || len(due) != 1 {
			t.Fatalf("claimed %d jobs at %v: %v", len(due), at, err)
		}
		return due
	}
	first := claim(now)
	m.releaseDue(first)
	kept := claim(now.Add(time.Second)) // in first's array; its caller keeps it
	if &kept[0] != &first[:1][0] {
		t.Error("a released claim's array was not reused")
	}
	third := claim(now.Add(2 * time.Second))
	if &third[0] == &kept[0] || kept[0].Job.ID != "j1" || third[0].Job.ID != "j2" {
		t.Errorf("a kept claim was written over: kept %s, then %s", kept[0].Job.ID, third[0].Job.ID)
	}
}

// addRun inserts one run, failing the test if the store refuses it.
func addRun(t *testing.T, m *MemoryStore, r *Run) {
	t.Helper()
	if _, err := m.AddRuns(context.Background(), []*Run{r}); err != nil {
		t.Fatal(err)
	}
}

// heapAfterGC collects, then reads the heap's statistics.
func heapAfterGC() runtime.MemStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// TestWarmJobReadsTheLiveIndex: the entries warmJob prefetches from,
// without the store's lock, are the index's own after every rehash and
// after RemoveAllJobs, and it hashes IDs as the index does. Schedulers
// adding jobs from several goroutines (warming while another rehashes)
// run clean under the race detector.
func TestWarmJobReadsTheLiveIndex(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{})
	live := func(when string) {
		t.Helper()
		m.mu.Lock()
		defer m.mu.Unlock()
		if e := *m.warmIdx.Load(); &e[0] != &m.jobs.index.entries[0] || len(e) != len(m.jobs.index.entries) {
			t.Fatalf("%s: warmJob reads %d entries, not the index's %d", when, len(e), len(m.jobs.index.entries))
		}
	}
	live("new")
	s, err := New(Config{Store: m, NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("t", func(context.Context, *Run) error { return nil })
	ctx := context.Background()
	trig := MustEvery(time.Hour, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				if _, err := s.AddJob(ctx, &Job{ID: fmt.Sprintf("g%d-%03d", g, i), Task: "t", Trigger: trig}, nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	live("after 2,000 jobs")
	if n := len(m.jobs.index.entries); n < 2048 {
		t.Fatalf("the index has %d entries; the test wants it rehashed past its first sizes", n)
	}
	if h := m.warmJob("g1-007"); h != m.hash.str("g1-007") {
		t.Fatalf("warmJob's hash %x is not the index's %x", h, m.hash.str("g1-007"))
	}
	if _, err := m.RemoveAllJobs(ctx); err != nil {
		t.Fatal(err)
	}
	live("after RemoveAllJobs")
}

// TestMemoryStoreCommitReturnsItsRuns: a commit whose runs all went in
// reports them in the caller's own slice, which costs a fire nothing;
// one whose run was a duplicate reports the others in a slice of its
// own, and AddRuns never hands back its caller's slice.
func TestMemoryStoreCommitReturnsItsRuns(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemoryStore(MemoryConfig{})
	if _, err := m.AddJob(ctx, &Job{ID: "j", Task: "t", Trigger: MustEvery(time.Second, nil), NextFire: now}, ConflictError, now); err != nil {
		t.Fatal(err)
	}
	run := func(id string, at time.Time) *Run {
		return &Run{ID: id, JobID: "j", Task: "t", Scheduled: at, Due: at, Attempt: 1, State: RunPending, Created: now}
	}
	commit := func(runs ...*Run) []*Run {
		due, err := m.ClaimDueJobs(ctx, JobClaim{Node: "n", Now: now, Horizon: now.Add(time.Hour), Lease: time.Minute})
		if err != nil || len(due) != 1 {
			t.Fatalf("claimed %d jobs: %v", len(due), err)
		}
		res, err := m.CommitFires(ctx, []FireCommit{{JobID: "j", Token: due[0].Token, Runs: runs, NextFire: now}}, now)
		if err != nil || res[0].Lost {
			t.Fatalf("commit: %+v, %v", res, err)
		}
		return res[0].Inserted
	}
	runs := []*Run{run("r1", now), run("r2", now.Add(time.Second))}
	if got := commit(runs...); len(got) != 2 || &got[0] != &runs[0] {
		t.Errorf("a commit of new runs reported %v, not its own slice", got)
	}
	again := []*Run{run("r3", now), run("r4", now.Add(2*time.Second))} // r3 repeats r1's fire
	if got := commit(again...); len(got) != 1 || got[0] != again[1] {
		t.Errorf("a commit with a duplicate reported %v, want only r4", got)
	}
	add := []*Run{run("r5", now.Add(3*time.Second))}
	if got, err := m.AddRuns(ctx, add); err != nil || len(got) != 1 || &got[0] == &add[0] {
		t.Errorf("AddRuns reported %v (%v), in its caller's slice", got, err)
	}
}

// TestMemoryStoreLiveKeysPastTheScan: a job's pending and running runs
// refuse a second run of their fire whether the job's record reads them
// one by one (liveScan or fewer) or keeps their keys in a map (more, as a
// backfill makes), and as it passes from one to the other both ways.
func TestMemoryStoreLiveKeysPastTheScan(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemoryStore(MemoryConfig{})
	const n = 3 * liveScan
	job := &Job{ID: "j", Task: "t", Trigger: MustEvery(time.Hour, nil), MaxInstances: n}
	if _, err := m.AddJob(ctx, job, ConflictError, now); err != nil {
		t.Fatal(err)
	}
	fire := func(id string, i int) *Run {
		at := now.Add(time.Duration(i) * time.Minute)
		return &Run{ID: id, JobID: "j", Task: "t", Scheduled: at, Due: now, Attempt: 1, State: RunPending, Created: now}
	}
	var runs []*Run
	for i := range n {
		runs = append(runs, fire(fmt.Sprintf("a%03d", i), i))
	}
	if got, err := m.AddRuns(ctx, runs); err != nil || len(got) != n {
		t.Fatalf("added %d of %d runs: %v", len(got), n, err)
	}
	dups := func(stage string) { // none goes in: a live run, or a finished one, has its fire
		t.Helper()
		var again []*Run
		for i := range n {
			again = append(again, fire(fmt.Sprintf("%s%03d", stage, i), i))
		}
		if got, err := m.AddRuns(ctx, again); err != nil || len(got) > 0 {
			t.Errorf("%s: %d second runs of a fire went in (%v)", stage, len(got), err)
		}
	}
	dups("b") // every run pending: the map
	m.mu.Lock()
	if m.byJob["j"].live == nil {
		t.Errorf("with %d runs live the job's record reads them one by one", n)
	}
	m.mu.Unlock()
	claimed, err := m.ClaimRuns(ctx, RunClaim{Node: "n", Now: now, Horizon: now, Limit: map[string]int{"default": n}})
	if err != nil || len(claimed) != n {
		t.Fatalf("claimed %d runs: %v", len(claimed), err)
	}
	dups("c") // every run running: the map
	// All but liveScan/2 finish: the map is dropped.
	for i, r := range claimed[:n-liveScan/2] {
		r.State, r.Finished = RunSucceeded, now
		if err := m.FinishRun(ctx, r, nil); err != nil {
			t.Fatalf("finish %d: %v", i, err)
		}
	}
	m.mu.Lock()
	mapped := m.byJob["j"].live != nil
	m.mu.Unlock()
	if mapped {
		t.Errorf("with %d runs live the job's record keeps a map of their keys", liveScan/2)
	}
	dups("d") // the runs left, read one by one; the finished ones, in the archive
}

// TestMemoryStoreCommitTrustsOnlyItsOwnClaim: a commit names the slot its
// claim came from, which the store takes only for the claim it handed
// out. Two stores hold the same jobs in other slots, so that a claim of
// each has the same token and slot for different jobs: a commit of one
// store's claim, presented to the other, is lost there and changes
// nothing.
func TestMemoryStoreCommitTrustsOnlyItsOwnClaim(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	stores := [2]*MemoryStore{NewMemoryStore(MemoryConfig{}), NewMemoryStore(MemoryConfig{})}
	var due [2]DueJob
	for i, ids := range [2][2]string{{"a", "b"}, {"b", "a"}} {
		m, id := stores[i], ids[0] // the first job added takes slot 0, and is claimed
		for _, j := range ids {
			if _, err := m.AddJob(ctx, &Job{ID: j, Task: "t", Trigger: MustEvery(time.Hour, nil), NextFire: now}, ConflictError, now); err != nil {
				t.Fatal(err)
			}
		}
		got, err := m.ClaimDueJobs(ctx, JobClaim{Node: "n", Now: now, Horizon: now, Lease: time.Minute, Limit: 1})
		if err != nil || len(got) != 1 || got[0].Job.ID != id {
			t.Fatalf("store %d claimed %v (%v), want job %s", i, got, err, id)
		}
		due[i] = got[0]
	}
	if due[0].slot != due[1].slot || due[0].Token != due[1].Token {
		t.Fatalf("the claims differ in slot (%d, %d) or token (%d, %d): the test needs them alike",
			due[0].slot, due[1].slot, due[0].Token, due[1].Token)
	}
	r := &Run{ID: "r", JobID: "a", Task: "t", Scheduled: now, Due: now, Attempt: 1, State: RunPending, Created: now}
	c := FireCommit{JobID: "a", Token: due[0].Token, Runs: []*Run{r}, NextFire: now.Add(time.Hour), slot: due[0].slot}
	res, err := stores[1].CommitFires(ctx, []FireCommit{c}, now)
	if err != nil || !res[0].Lost {
		t.Fatalf("store b took store a's commit: %+v, %v", res, err)
	}
	if got, err := stores[1].GetRun(ctx, "r"); err == nil {
		t.Errorf("store b inserted store a's run: %+v", got)
	}
	if res, err := stores[0].CommitFires(ctx, []FireCommit{c}, now); err != nil || res[0].Lost || len(res[0].Inserted) != 1 {
		t.Errorf("store a refused its own commit: %+v, %v", res, err)
	}
}

// TestMemoryStoreCommitAfterItsJobsRunsWentAway: a claim notes its job's
// runs for the commit to add to; when the job's last kept run is pruned in
// between, the store forgets those runs' record, and the commit's run
// goes into a new one that the store finds by the job's ID.
func TestMemoryStoreCommitAfterItsJobsRunsWentAway(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemoryStore(MemoryConfig{})
	if _, err := m.AddJob(ctx, &Job{ID: "j", Task: "t", Trigger: MustEvery(time.Hour, nil), NextFire: now}, ConflictError, now); err != nil {
		t.Fatal(err)
	}
	old := now.Add(-2 * time.Hour)
	addRun(t, m, &Run{ID: "old", JobID: "j", Task: "t", Scheduled: old, Attempt: 1, State: RunSucceeded, Finished: old})
	due, err := m.ClaimDueJobs(ctx, JobClaim{Node: "n", Now: now, Horizon: now, Lease: time.Minute})
	if err != nil || len(due) != 1 {
		t.Fatalf("claimed %d jobs: %v", len(due), err)
	}
	if n, err := m.PruneRuns(ctx, Retention{MaxAge: time.Hour}, now); err != nil || n != 1 {
		t.Fatalf("pruned %d runs: %v", n, err)
	}
	r := &Run{ID: "new", JobID: "j", Task: "t", Scheduled: now, Due: now, Attempt: 1, State: RunPending, Created: now}
	c := FireCommit{JobID: "j", Token: due[0].Token, Runs: []*Run{r}, NextFire: now.Add(time.Hour), slot: due[0].slot}
	if res, err := m.CommitFires(ctx, []FireCommit{c}, now); err != nil || res[0].Lost || len(res[0].Inserted) != 1 {
		t.Fatalf("commit: %+v, %v", res, err)
	}
	runs, err := m.ListRuns(ctx, RunFilter{JobID: "j"})
	if err != nil || len(runs) != 1 || runs[0].ID != "new" {
		t.Errorf("the job's runs are %v (%v), want the commit's", runs, err)
	}
}

// TestOrderQueueReusesItsArray: the archive's order, a queue with as many
// pushes as pops in steady state, keeps its entries in order in an array
// that stops growing, and keeps no jobRuns it popped.
func TestOrderQueueReusesItsArray(t *testing.T) {
	const live = 100
	var q orderQueue
	next, want := int32(0), int32(0)
	push := func() { q.push(archived{slot: next, of: &jobRuns{}}); next++ }
	for range live {
		push()
	}
	for i := range 10000 {
		push()
		if e := q.pop(); e.slot != want {
			t.Fatalf("pop %d: slot %d, want %d", i, e.slot, want)
		}
		want++
		if q.len() != live {
			t.Fatalf("pop %d: %d queued, want %d", i, q.len(), live)
		}
	}
	if cap(q.buf) > 4*live {
		t.Errorf("after 10,000 pushes and pops with %d queued the array holds %d entries", live, cap(q.buf))
	}
	for i, e := range q.buf[:q.head] {
		if e.of != nil {
			t.Fatalf("entry %d, popped, still holds its jobRuns", i)
		}
	}
}

// TestPageKeepsTheFirstRuns: a page offered runs in any order keeps the
// first n of the listing (newest Scheduled first, ties newest ID first),
// in order: the same as sorting them all and cutting.
func TestPageKeepsTheFirstRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{1, 2, 7, 100, 1000} {
		for _, order := range []string{"random", "oldest first", "newest first"} {
			var all []listed
			for i := range 500 {
				at := base.Add(time.Duration(rng.IntN(50)) * time.Second) // many ties
				if order != "random" {
					at = base.Add(time.Duration(i) * time.Second)
				}
				all = append(all, liveListed(&Run{ID: fmt.Sprintf("r%03d", rng.IntN(1000)), Scheduled: at}))
			}
			if order == "newest first" {
				slices.Reverse(all)
			}
			pg := newPage(n)
			for _, l := range all {
				pg.offer(l)
			}
			want := slices.Clone(all)
			slices.SortStableFunc(want, listingOrder)
			want = want[:min(n, len(want))]
			got := pg.sorted()
			ids := func(ls []listed) []string {
				var out []string
				for _, l := range ls {
					out = append(out, l.run.Scheduled.Format("15:04:05")+"/"+l.run.ID)
				}
				return out
			}
			if !slices.Equal(ids(got), ids(want)) {
				t.Errorf("n %d, offered %s: the page is %v, want %v", n, order, ids(got), ids(want))
			}
		}
	}
}

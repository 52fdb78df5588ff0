package sundial

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
	_ "time/tzdata"
)

// TestMemoryStoreHistoryStaysBounded: runs dropped by the per-job bound must
// not linger in the store's global order of finished runs, or a process
// with many jobs grows without limit while staying under MaxRuns.
func TestMemoryStoreHistoryStaysBounded(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{MaxRunsPerJob: 2, MaxRuns: 1000000})
	ctx := context.Background()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10000 {
		at := base.Add(time.Duration(i) * time.Second)
		r := &Run{ID: fmt.Sprintf("r%05d", i), JobID: fmt.Sprintf("job-%d", i%10), Scheduled: at, Attempt: 1,
			State: RunSucceeded, Finished: at}
		if _, err := m.AddRuns(ctx, []*Run{r}); err != nil {
			t.Fatal(err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.runs) != 20 || m.nFinish != 20 {
		t.Fatalf("kept %d runs (counted %d), want 2 per job for 10 jobs", len(m.runs), m.nFinish)
	}
	if len(m.finished) > 4*20 {
		t.Errorf("the finished-run order holds %d entries for 20 kept runs", len(m.finished))
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
		got := m.unpack(m.pack(j))
		m.mu.Unlock()
		if !reflect.DeepEqual(got, j) {
			t.Errorf("%s:\n got %#v\nwant %#v", j.ID, got, j)
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
		if got := m.unpack(m.pack(j)); !got.Start.Equal(at) || got.Start.Format(time.RFC3339) != "2024-01-01T09:00:00+09:00" {
			t.Fatalf("start came back as %s", got.Start.Format(time.RFC3339))
		}
	}
	other := time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", -5*3600))
	m.pack(&Job{ID: "x", Name: "x", Task: "t", Trigger: MustEvery(time.Hour, nil), Start: other})
	if len(m.locs.locs) != 2 {
		t.Errorf("the zone table holds %d zones for two offsets", len(m.locs.locs))
	}
}

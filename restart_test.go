package sundial_test

import (
	"context"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

// TestRestartKeepsSchedule: a service that re-declares its jobs on start
// (replace, the default for Schedule) resumes them where they were, and
// the fires that fell due while it was down are accounted for by the
// misfire policy, not dropped (DESIGN invariant 2).
func TestRestartKeepsSchedule(t *testing.T) {
	ctx := context.Background()
	store := sundial.NewMemoryStore(sundial.MemoryConfig{})
	clock := sundialtest.NewClock(t0)
	declare := func() (*sundial.Scheduler, sundial.Job) {
		s, err := sundial.New(sundial.Config{Store: store, Clock: clock, NodeID: "n1"})
		if err != nil {
			t.Fatal(err)
		}
		s.Handle("noop", noop)
		hourly, err := s.AddJob(ctx, &sundial.Job{ID: "hourly", Task: "noop", Trigger: sundial.MustEvery(time.Hour, nil)},
			&sundial.AddOptions{OnConflict: sundial.ConflictReplace})
		if err != nil {
			t.Fatal(err)
		}
		return s, hourly
	}
	_, first := declare()
	if want := t0.Add(time.Hour); !first.NextFire.Equal(want) {
		t.Fatalf("first declaration: next fire %s, want %s", first.NextFire, want)
	}

	clock.Advance(3*time.Hour + 30*time.Minute) // down over three fires
	s, again := declare()
	if !again.NextFire.Equal(first.NextFire) || again.Version != 2 {
		t.Fatalf("re-declared: next fire %s (version %d), want the stored %s kept", again.NextFire, again.Version, first.NextFire)
	}
	events := sundialtest.Record(t, s, sundial.EventJobMissed)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(ctx)
	for range 3 {
		events.Wait(t, sundial.EventJobMissed, wait)
	}
	runs, err := store.ListRuns(ctx, sundial.RunFilter{JobID: "hourly"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[time.Time]sundial.RunState{}
	for _, r := range runs {
		seen[r.Scheduled] = r.State
	}
	for i := 1; i <= 3; i++ {
		if f := t0.Add(time.Duration(i) * time.Hour); seen[f] != sundial.RunMissed {
			t.Errorf("fire %s: %v, want a missed record", f.Format(time.Kitchen), seen[f])
		}
	}

	// A changed schedule is not kept: the new trigger starts afresh.
	changed, err := s.AddJob(ctx, &sundial.Job{ID: "hourly", Task: "noop", Trigger: sundial.MustEvery(2*time.Hour, nil)},
		&sundial.AddOptions{OnConflict: sundial.ConflictReplace})
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().Add(2 * time.Hour); !changed.NextFire.Equal(want) {
		t.Errorf("changed interval: next fire %s, want %s", changed.NextFire, want)
	}
}

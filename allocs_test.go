//go:build !race

// The race detector's instrumentation makes a caller's job escape to the
// heap, so the tests here, which count allocations, build only without
// it; `make test` runs them in a pass of its own (make allocs).

package sundial_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

// TestAddJobAllocatesNothing: registering a job on the memory store
// allocates nothing per job beyond what the store keeps (amortised to
// under one allocation a job), so a million registrations leave little
// garbage behind for the collector and the scavenger.
func TestAddJobAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	// A started scheduler with no one listening for JobAdded, whose event
	// carries a copy of the job.
	s, err := sundial.New(sundial.Config{Clock: sundialtest.NewClock(t0), NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("noop", noop)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(ctx)
	anchored := sundial.MustEvery(time.Hour, &sundial.IntervalOptions{Start: t0})
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("idle-%04d", i)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(ids)-1, func() {
		if _, err := s.AddJob(ctx, &sundial.Job{ID: ids[i], Task: "noop", Trigger: anchored}, nil); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("AddJob allocated %v times a job, want 0 (amortised)", allocs)
	}
}

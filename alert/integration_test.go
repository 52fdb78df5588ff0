package alert

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

// newScheduler starts a scheduler on clock, shut down with the test.
func newScheduler(t *testing.T, clock *sundialtest.Clock) *sundial.Scheduler {
	t.Helper()
	s, err := sundial.New(sundial.Config{Clock: clock, NodeID: "test-node", Role: sundial.RoleAll})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// addJob adds j, with a trigger a day away unless it has one.
func addJob(t *testing.T, s *sundial.Scheduler, j *sundial.Job) sundial.Job {
	t.Helper()
	if j.Trigger == nil {
		j.Trigger = sundial.MustAt(start.Add(24*time.Hour), nil)
	}
	stored, err := s.AddJob(context.Background(), j, nil)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

var runIDPattern = regexp.MustCompile(`run ([0-9A-Z]{26})`)

// runID finds the run ID in a message's text.
func runID(t *testing.T, text string) string {
	t.Helper()
	m := runIDPattern.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no run ID in %q", text)
	}
	return m[1]
}

func panickingTask(ctx context.Context, r *sundial.Run) error {
	var m map[string]int
	m["boom"]++ // assignment to entry in nil map
	return nil
}

// TestFailureFromScheduler has a real task panic: the message carries the
// error and the stack from the panic on.
func TestFailureFromScheduler(t *testing.T) {
	f := setup(t, Config{}, nil)
	s := newScheduler(t, f.clock)
	if err := s.Handle("charge", panickingTask); err != nil {
		t.Fatal(err)
	}
	addJob(t, s, &sundial.Job{ID: "billing.charge", Task: "charge"})
	f.a.Attach(s)
	if _, err := s.RunNow(context.Background(), "billing.charge"); err != nil {
		t.Fatal(err)
	}
	got := f.text(t)
	wantContains(t, got, "Job billing.charge failed\n", "node test-node",
		`error: sundial: task "charge" panicked: assignment to entry in nil map`,
		"```\ngoroutine ", "\npanic(", "alert.panickingTask(")
	if regexp.MustCompile(`runtime/debug\.Stack|\(\*worker\)\.call\.func`).MatchString(got) {
		t.Errorf("the recovery frames were kept:\n%s", got)
	}
}

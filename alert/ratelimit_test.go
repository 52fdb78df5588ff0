package alert

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// fail feeds the alerter a failure of job with the error "failure n".
func (f *fixture) fail(job string, n int) {
	e := f.event(sundial.EventJobError, job, fmt.Sprintf("%s-%d", job, n), f.clock.Now())
	e.Err = fmt.Sprintf("failure %d", n)
	f.a.Listen(e)
}

func TestRateLimitSummarizesRepeats(t *testing.T) {
	f := setup(t, Config{RateLimit: time.Minute}, nil)
	f.fail("flaky", 0) // 12:00:00, sent at once
	wantContains(t, f.text(t), "Job flaky failed\n", "error: failure 0\n")
	for i := 1; i <= 38; i++ { // one a second, 12:00:01 to 12:00:38: held back
		f.advance(time.Second)
		f.fail("flaky", i)
	}
	f.fail("other", 0) // another job has its own limit
	wantContains(t, f.text(t), "Job other failed\n")
	f.advance(22 * time.Second) // 12:01:00: the latest goes, with the count
	got := f.text(t)
	wantContains(t, got, "error: failure 38\n", "and 37 more failures since 12:00:01 UTC\n")
	if strings.Contains(got, "failure 37") {
		t.Errorf("an older failure's error was sent:\n%s", got)
	}
	f.advance(time.Second)
	f.fail("flaky", 39) // 12:01:01, within the next interval
	f.advance(59 * time.Second)
	got = f.text(t) // 12:02:00: one held back, sent alone
	wantContains(t, got, "error: failure 39\n")
	if strings.Contains(got, "more failure") {
		t.Errorf("a lone alert carries a summary:\n%s", got)
	}
	f.advance(time.Hour)
	f.fail("flaky", 40) // long after: at once again
	wantContains(t, f.text(t), "error: failure 40\n")
	f.quiet(t)
}

func TestRateLimitMixedKinds(t *testing.T) {
	f := setup(t, Config{}, nil)
	f.fail("j", 0)
	f.text(t)
	f.advance(time.Second)
	f.fail("j", 1)
	f.a.Listen(f.event(sundial.EventRunSlow, "j", "R", start))
	f.fail("j", 2)
	f.advance(time.Minute)
	wantContains(t, f.text(t), "error: failure 2\n", "and 2 more alerts since 12:00:01 UTC (1 failure, 1 slow run)\n")
	f.fail("j", 3)
	f.advance(time.Second)
	f.a.Listen(f.event(sundial.EventRunSlow, "j", "R2", start))
	f.advance(time.Minute)
	wantContains(t, f.text(t), "Job j is slow", "and 1 more failure since 12:01:01 UTC\n")
}

// TestRateLimitExpiredWindow: an alert that comes after the interval ended,
// before its timer ran, goes at once and carries the count.
func TestRateLimitExpiredWindow(t *testing.T) {
	f := setup(t, Config{}, nil)
	f.fail("j", 0)
	f.text(t)
	f.advance(time.Second)
	f.fail("j", 1)
	f.clock.Advance(2 * time.Minute) // no sync: the window's timer may not have run
	f.fail("j", 2)
	f.a.sync()
	got := f.text(t)
	if strings.Contains(got, "failure 2") {
		wantContains(t, got, "and 1 more failure since 12:00:01 UTC\n")
	} else { // the timer ran first and sent failure 1; failure 2 comes next
		wantContains(t, got, "error: failure 1\n")
	}
}

func TestRateLimitOff(t *testing.T) {
	f := setup(t, Config{RateLimit: -1}, nil)
	for i := range 5 {
		f.fail("j", i)
	}
	for i := range 5 {
		wantContains(t, f.text(t), fmt.Sprintf("error: failure %d\n", i))
	}
}

func TestCloseSendsWhatIsHeldBack(t *testing.T) {
	f := setup(t, Config{Jobs: map[string]JobRules{"j": {RateLimit: time.Hour}}}, nil)
	f.fail("j", 0)
	f.fail("j", 1)
	f.fail("j", 2)
	if err := f.a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantContains(t, f.text(t), "error: failure 0\n")
	wantContains(t, f.text(t), "error: failure 2\n", "and 1 more failure since 12:00:00 UTC\n")
}

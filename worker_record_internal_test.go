package sundial

import (
	"testing"
	"time"
)

// TestRecordingYieldsToStarts: with ends queued, the recorder waits while
// the runs waiting to start grow fewer, and no longer: not when nothing
// is queued, nor once none waits, nor once a look finds no run started
// since the last, nor past maxRecordDelay.
func TestRecordingYieldsToStarts(t *testing.T) {
	countdown := func(from int) func() int {
		return func() int {
			from--
			return max(from, 0)
		}
	}
	cases := []struct {
		name      string
		queued    bool
		backlog   func() int
		wantLooks int // at most this many looks at the backlog; exactly, when more is 0
		more      bool
	}{
		{"nothing queued", false, countdown(10), 0, false},
		{"none waiting", true, countdown(1), 1, false},
		{"a burst starting", true, countdown(6), 6, false},
		{"pools busy with long tasks", true, func() int { return 3 }, 2, false},
		{"a burst longer than the bound", true, countdown(1 << 20), int(maxRecordDelay/recordPoll) + 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			looks := 0
			rc := &recorder{backlog: func() int { looks++; return c.backlog() }}
			if c.queued {
				rc.freed.runs = []*activeRun{{}}
			}
			began := time.Now()
			rc.yield()
			took := time.Since(began)
			if looks > c.wantLooks || !c.more && looks != c.wantLooks {
				t.Errorf("looked at the backlog %d times, want %d", looks, c.wantLooks)
			}
			if took > maxRecordDelay+time.Second {
				t.Errorf("yield took %v, past its bound %v", took, maxRecordDelay)
			}
			if c.more && took < maxRecordDelay {
				t.Errorf("yield took %v, want it to wait out its bound %v while runs kept starting", took, maxRecordDelay)
			}
		})
	}
}

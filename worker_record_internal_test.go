package sundial

import (
	"sync"
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
				rc.freed.last.Store(&activeRun{})
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

// TestStageKeepsOrder: runs put on a stage by several goroutines at once,
// singly and in batches, are each taken once, and the runs of one put,
// and the puts of one goroutine, in the order they were put.
func TestStageKeepsOrder(t *testing.T) {
	q := stage{wake: make(chan struct{}, 1)}
	const putters, puts = 4, 500
	type tag struct{ putter, seq int }
	tags := map[*activeRun]tag{}
	runs := make([][]*activeRun, putters)
	for p := range runs {
		for i := range puts {
			a := &activeRun{}
			runs[p] = append(runs[p], a)
			tags[a] = tag{p, i}
		}
	}
	var wg sync.WaitGroup
	for p := range putters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < puts; {
				n := min(1+i%3, puts-i) // one, two or three at a time
				q.put(runs[p][i : i+n]...)
				i += n
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); q.close(); close(done) }()
	next := make([]int, putters)
	var buf []*activeRun
	for taken := 0; ; {
		var closed bool
		buf, closed = q.take(buf)
		for _, a := range buf {
			tg := tags[a]
			if tg.seq != next[tg.putter] {
				t.Fatalf("putter %d: took its run %d, want %d", tg.putter, tg.seq, next[tg.putter])
			}
			if a.before != nil {
				t.Fatalf("a taken run still links to another")
			}
			next[tg.putter]++
			taken++
		}
		if closed && len(buf) == 0 {
			if taken != putters*puts {
				t.Fatalf("took %d runs, want %d", taken, putters*puts)
			}
			break
		}
		if len(buf) == 0 {
			select {
			case <-q.wake:
			case <-done:
			}
		}
	}
	if q.pending() {
		t.Error("a drained, closed stage reports runs pending")
	}
}

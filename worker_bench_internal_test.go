package sundial

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkBurstStart measures what a burst costs the worker per run: a
// pool holds 10,000 runs due at one instant, and its slots start them,
// one after another, with a task that does nothing. The recorder frees
// slots as it does in a scheduler, but writes nothing: the store is left
// out. Run it with GOMAXPROCS=1 for the cost on one core without the
// noise of two.
func BenchmarkBurstStart(b *testing.B) {
	for _, slots := range []int{1, 64} {
		b.Run(fmt.Sprintf("slots=%d", slots), func(b *testing.B) { benchBurstStart(b, slots, 10000) })
	}
}

func benchBurstStart(b *testing.B, slots, runs int) {
	s, err := New(Config{NodeID: "bench", Executors: map[string]int{"default": slots}})
	if err != nil {
		b.Fatal(err)
	}
	var left atomic.Int64
	done := make(chan struct{}, 1)
	if err := s.Handle("noop", func(context.Context, *Run) error {
		if left.Add(-1) == 0 {
			done <- struct{}{}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	w := s.worker
	w.rec.start(s.clock, w.release, func(ended []*activeRun, _ bool) time.Duration {
		for _, a := range ended {
			a.cancel(nil)
		}
		return 0
	}, w.startBacklog)
	b.Cleanup(w.rec.close)
	due := time.Now().Add(-time.Second)
	var elapsed time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		w.mu.Lock()
		clear(w.active)
		for k := range runs {
			w.hold(newActive(&Run{ID: fmt.Sprintf("r%d-%d", i, k), JobID: fmt.Sprintf("j%d", k), Task: "noop", Due: due}))
		}
		w.mu.Unlock()
		left.Store(int64(runs))
		runtime.GC()  // the setup's garbage, not the burst's
		evictCaches() // the runs of a burst were made half a second before it
		b.StartTimer()
		began := time.Now()
		for left.Load() > 0 {
			w.launchDue() // as the loop does when a slot's chain ends with runs still due
			select {
			case <-done:
			case <-time.After(time.Millisecond):
			}
		}
		elapsed += time.Since(began)
		w.tasks.Wait()
		waitFreed(w)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*runs), "ns/run")
}

// waitFreed waits until the recorder has freed the slots of a burst's
// last runs, which it does after their tasks end: a slot freed while the
// next burst is set up would start that burst's runs before it is timed,
// and its last task would wait on done, full with this burst's signal.
func waitFreed(w *worker) {
	for busySlots(w) > 0 {
		time.Sleep(10 * time.Microsecond)
	}
}

// evictBuf is larger than any processor's last-level cache here.
var evictBuf = make([]byte, 64<<20)

// evictCaches writes over evictBuf, so that what was in the caches is
// not any more.
func evictCaches() {
	for i := 0; i < len(evictBuf); i += 64 {
		evictBuf[i]++
	}
}

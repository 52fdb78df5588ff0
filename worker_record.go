package sundial

import "sync"

// recorder settles ended runs (frees their slots, writes them to the
// store) on one goroutine of its own, in batches, in the order they ended.
// Tasks hand their runs over and return at once, so a burst of thousands
// of runs due at the same instant starts as fast as goroutines can, and
// the bookkeeping follows.
type recorder struct {
	mu     sync.Mutex
	queue  []*activeRun
	closed bool
	wake   chan struct{}
	done   chan struct{} // nil until started
}

// start runs the recorder until close; settle handles each batch.
func (rc *recorder) start(settle func([]*activeRun)) {
	rc.wake = make(chan struct{}, 1)
	rc.done = make(chan struct{})
	go rc.loop(settle)
}

func (rc *recorder) loop(settle func([]*activeRun)) {
	defer close(rc.done)
	var batch []*activeRun
	for {
		rc.mu.Lock()
		batch, rc.queue = rc.queue, batch[:0]
		closed := rc.closed
		rc.mu.Unlock()
		if len(batch) > 0 {
			settle(batch)
			clear(batch)
		}
		if len(batch) == 0 {
			if closed {
				return
			}
			<-rc.wake
		}
	}
}

// add queues a run whose task ended (or that never started).
func (rc *recorder) add(a *activeRun) {
	rc.mu.Lock()
	rc.queue = append(rc.queue, a)
	first := len(rc.queue) == 1
	rc.mu.Unlock()
	if first {
		wake(rc.wake)
	}
}

// close records what is queued, then stops the recorder.
func (rc *recorder) close() {
	if rc.done == nil {
		return
	}
	rc.mu.Lock()
	rc.closed = true
	rc.mu.Unlock()
	wake(rc.wake)
	<-rc.done
}

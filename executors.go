package sundial

import "reflect"

// AddExecutor adds a worker pool of size goroutines under name, for jobs
// whose Executor names it (APScheduler's add_executor). It fails with a
// *FieldError for an empty name or a size below 1, and ErrConflict when
// the pool exists. It emits EventExecutorAdded.
func (s *Scheduler) AddExecutor(name string, size int) error {
	switch {
	case name == "":
		return invalid("executor", "empty pool name")
	case size < 1:
		return invalid("size", "pool %q has size %d; want at least 1", name, size)
	}
	w := s.worker
	w.mu.Lock()
	if _, ok := w.livePool(name); ok {
		w.mu.Unlock()
		return &conflictError{"executor " + name + " already exists"}
	}
	w.addPool(name, size)
	w.mu.Unlock()
	wake(s.wakeWorker)
	s.emit(Event{Type: EventExecutorAdded, Subject: name})
	return nil
}

// RemoveExecutor removes a worker pool. Its running tasks finish; runs it
// had claimed but not started go back to the store, for a node that has
// the pool. Jobs naming it can no longer be added here. It fails with
// ErrNotFound for an unknown pool and a *FieldError for "default". It
// emits EventExecutorRemoved.
func (s *Scheduler) RemoveExecutor(name string) error {
	if name == "default" {
		return invalid("executor", "the default pool cannot be removed")
	}
	w := s.worker
	w.mu.Lock()
	p, ok := w.livePool(name)
	if !ok {
		w.mu.Unlock()
		return &notFoundError{"executor " + name}
	}
	p.size = 0
	w.giveBack(p, errCancelled)
	w.mu.Unlock()
	s.emit(Event{Type: EventExecutorRemoved, Subject: name})
	return nil
}

// Executors returns the worker pools and their sizes.
func (s *Scheduler) Executors() map[string]int {
	w := s.worker
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.pools))
	for name, p := range w.pools {
		if p.size > 0 {
			out[name] = p.size
		}
	}
	return out
}

func (w *worker) hasPool(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.livePool(name)
	return ok
}

// storeName names a store in events and logs: its type, such as
// "*sundial.MemoryStore".
func storeName(st Store) string { return reflect.TypeOf(st).String() }

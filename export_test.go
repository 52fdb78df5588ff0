package sundial

// NewMemoryStoreOneHash returns a memory store whose ID indexes give every
// ID the same hash, so every job and finished run but one is found
// through the collision path: the conformance suite then covers it.
func NewMemoryStoreOneHash(cfg MemoryConfig) *MemoryStore {
	m := NewMemoryStore(cfg)
	m.hash.force = func(string) uint64 { return 42 }
	return m
}

// DueBatched returns how many runs the pool's batch of due runs has not
// given yet.
func (s *Scheduler) DueBatched(pool string) int {
	w := s.worker
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pools[pool].due.Load().left()
}

// PoolCounts returns a pool's busy slots and the runs it holds claimed.
func (s *Scheduler) PoolCounts(pool string) (busy, claimed int) {
	w := s.worker
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.pools[pool]
	p.fold()
	return p.busy, p.claimed
}

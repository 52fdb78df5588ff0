package sundial

// NewMemoryStoreOneHash returns a memory store whose ID index gives every
// ID the same hash, so every job but one is found through the collision
// path: the conformance suite then covers it.
func NewMemoryStoreOneHash(cfg MemoryConfig) *MemoryStore {
	m := NewMemoryStore(cfg)
	m.jobs.hash = func(string) uint64 { return 42 }
	m.jobs.init()
	return m
}

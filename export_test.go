package sundial

// NewMemoryStoreOneHash returns a memory store whose ID indexes give every
// ID the same hash, so every job and finished run but one is found
// through the collision path: the conformance suite then covers it.
func NewMemoryStoreOneHash(cfg MemoryConfig) *MemoryStore {
	m := NewMemoryStore(cfg)
	m.hash.force = func(string) uint64 { return 42 }
	return m
}

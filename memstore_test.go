package sundial_test

import (
	"testing"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sundial.Store {
		return sundial.NewMemoryStore(sundial.MemoryConfig{})
	})
}

// TestMemoryStoreConformanceOneHash runs the suite on a store whose job
// index hashes every ID alike, so lookups, replacements and removals take
// the path a hash collision takes.
func TestMemoryStoreConformanceOneHash(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sundial.Store {
		return sundial.NewMemoryStoreOneHash(sundial.MemoryConfig{})
	})
}

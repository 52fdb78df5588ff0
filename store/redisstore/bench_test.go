package redisstore_test

import (
	"testing"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/storetest"
)

// BenchmarkFires runs storetest's store-side cluster benchmark on three
// Stores on one prefix (three nodes).
func BenchmarkFires(b *testing.B) {
	storetest.BenchmarkFires(b, func(b *testing.B) []sundial.Store {
		prefix := newPrefix(b)
		return []sundial.Store{open(b, prefix), open(b, prefix), open(b, prefix)}
	})
}

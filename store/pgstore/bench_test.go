package pgstore_test

import (
	"testing"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/storetest"
)

// BenchmarkFires runs storetest's store-side cluster benchmark on three
// Stores on one schema (three nodes).
func BenchmarkFires(b *testing.B) {
	storetest.BenchmarkFires(b, func(b *testing.B) []sundial.Store {
		db := newDB(b)
		return []sundial.Store{db.open(b), db.open(b), db.open(b)}
	})
}

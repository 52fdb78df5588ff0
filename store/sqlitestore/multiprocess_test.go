package sqlitestore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/sqlitestore"
	"github.com/sundialhq/sundial/store/storetest"
)

// openMany opens n Stores on one file at once, as n processes starting
// together would: they race to create the schema, too.
func openMany(t *testing.T, n int) []*sqlitestore.Store {
	t.Helper()
	path := tempPath(t)
	stores := make([]*sqlitestore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = sqlitestore.New(context.Background(), sqlitestore.Config{Path: path}) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("store %d: %v", i, errs[i])
		}
		t.Cleanup(func() { s.Close() })
	}
	return stores
}

// TestFourStoresExactlyOnce runs storetest's exactly-once race with four
// Stores on one file, as four processes would hold: their claims and
// commits serialize only through SQLite's locks.
func TestFourStoresExactlyOnce(t *testing.T) {
	t.Parallel()
	storetest.ExactlyOnce(t, asStores(openMany(t, 4)))
}

// TestFourStoresMaxInstances runs storetest's cluster-wide MaxInstances
// race with four Stores on one file.
func TestFourStoresMaxInstances(t *testing.T) {
	t.Parallel()
	storetest.MaxInstancesRace(t, asStores(openMany(t, 4)))
}

func asStores(stores []*sqlitestore.Store) []sundial.Store {
	out := make([]sundial.Store, len(stores))
	for i, s := range stores {
		out[i] = s
	}
	return out
}

package pgstore_test

import (
	"testing"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/storetest"
)

// TestConformance runs the store suite, each test on a schema of its own.
// The suite passes fixed times in 2024: leases and heartbeats are checked
// against the lesser of those and the server's clock, which is then the
// times passed.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) sundial.Store { return openStore(t) })
}

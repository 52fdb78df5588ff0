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

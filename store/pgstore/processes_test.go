package pgstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/pgstore"
	"github.com/sundialhq/sundial/store/storetest"
)

// The environment of a child process of TestProcessesKillOne: the
// store it opens.
const (
	childURLVar    = "SUNDIAL_PG_URL"    // the server
	childSchemaVar = "SUNDIAL_PG_SCHEMA" // the schema
)

// TestProcessesKillOne runs storetest.Processes on a schema of its own:
// three scheduler processes, one SIGKILLed with runs in flight and
// restarted; every fire runs once, by the store and by the tasks' record.
func TestProcessesKillOne(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	storetest.Processes(t, storetest.ProcessesConfig{Store: db.open(t),
		Env: []string{childURLVar + "=" + db.url, childSchemaVar + "=" + db.schema}})
}

// openChild opens the store of a child process of TestProcessesKillOne.
func openChild(ctx context.Context) (sundial.Store, error) {
	return pgstore.New(ctx, pgstore.Config{URL: os.Getenv(childURLVar), Schema: os.Getenv(childSchemaVar)})
}

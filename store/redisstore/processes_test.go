package redisstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/store/redisstore"
	"github.com/sundialhq/sundial/store/storetest"
)

// The environment of a child process of TestProcessesKillOne: the
// store it opens.
const (
	childURLVar    = "SUNDIAL_REDIS_URL"    // the server
	childPrefixVar = "SUNDIAL_REDIS_PREFIX" // the key prefix
)

// TestProcessesKillOne runs storetest.Processes on a prefix of its own:
// three scheduler processes, one SIGKILLed with runs in flight and
// restarted; every fire runs once, by the store and by the tasks' record.
func TestProcessesKillOne(t *testing.T) {
	t.Parallel()
	url, prefix := testenv.RedisURL(t), newPrefix(t)
	storetest.Processes(t, storetest.ProcessesConfig{Store: open(t, prefix),
		Env: []string{childURLVar + "=" + url, childPrefixVar + "=" + prefix}})
}

// openChild opens the store of a child process of TestProcessesKillOne.
func openChild(ctx context.Context) (sundial.Store, error) {
	return redisstore.New(ctx, redisstore.Config{URL: os.Getenv(childURLVar), Prefix: os.Getenv(childPrefixVar)})
}

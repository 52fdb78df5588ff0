package clusterbench

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	MaybeChild()
	os.Exit(m.Run())
}

// serverEnv names the variable that must be set for a library's servers.
var serverEnv = map[string]string{"postgres": "SUNDIAL_TEST_POSTGRES_URL", "redis": "SUNDIAL_TEST_REDIS_URL"}

// TestTiny runs every library through a short run with a kill, 3
// replicas and 20 jobs, when its servers are given by
// SUNDIAL_TEST_POSTGRES_URL and SUNDIAL_TEST_REDIS_URL (skipped
// otherwise), and checks that the harness measured something.
func TestTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and runs for about 30 s per library")
	}
	for _, lib := range Libs {
		t.Run(lib.Name, func(t *testing.T) {
			for _, need := range lib.Needs {
				if os.Getenv(serverEnv[need]) == "" {
					t.Skipf("%s unset", serverEnv[need])
				}
			}
			cfg := Config{Jobs: 20, Warmup: 2 * time.Second, For: 5 * time.Second, Kill: true, AfterKill: 8 * time.Second, Drain: 2 * time.Second,
				Postgres: os.Getenv(serverEnv["postgres"]), Redis: os.Getenv(serverEnv["redis"]), Log: testLog{t}}
			r := Run(context.Background(), lib, cfg)
			if !r.OK() {
				t.Fatal(r.Err)
			}
			t.Logf("%+v", r.Figures)
			if len(r.ReplicaErrs) > 0 {
				t.Errorf("replicas failed: %v", r.ReplicaErrs)
			}
			if r.Steady.Expected != 100 || r.Steady.Ran == 0 {
				t.Errorf("steady window: %d of %d fires ran, want 100 expected and some run", r.Steady.Ran, r.Steady.Expected)
			}
			if r.Failover.Jobs != 20 || r.Failover.GapMax <= 0 {
				t.Errorf("failover not measured: %+v", r.Failover)
			}
			if slices.Max(r.PerNode) == 0 {
				t.Errorf("no node ran anything: %v", r.PerNode)
			}
		})
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(string(p))
	return len(p), nil
}

package sundial

import (
	"testing"
	"time"
)

// TestConfigLeasesFollowTheTTL: by default a job claim lasts half the
// HeartbeatTTL, and the lease a node's heartbeat writes ends within the
// TTL, yet after the node's next heartbeat is due.
func TestConfigLeasesFollowTheTTL(t *testing.T) {
	for _, c := range []struct{ ttl, interval, jobLease, lost time.Duration }{
		{0, 0, 5 * time.Second, 9 * time.Second},
		{5 * time.Second, time.Second, 2500 * time.Millisecond, 4500 * time.Millisecond},
		{1200 * time.Millisecond, time.Second, 600 * time.Millisecond, 1100 * time.Millisecond},
	} {
		cfg, err := Config{HeartbeatTTL: c.ttl, HeartbeatInterval: c.interval}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.JobLease != c.jobLease || cfg.lostAfter() != c.lost {
			t.Errorf("TTL %v, interval %v: JobLease %v, lost after %v; want %v and %v", c.ttl, c.interval,
				cfg.JobLease, cfg.lostAfter(), c.jobLease, c.lost)
		}
	}
	cfg, err := Config{HeartbeatTTL: 5 * time.Second, JobLease: 7 * time.Second}.withDefaults()
	if err != nil || cfg.JobLease != 7*time.Second {
		t.Errorf("a JobLease set stays: %v, %v", cfg.JobLease, err)
	}
}

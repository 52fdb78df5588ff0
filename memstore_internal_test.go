package sundial

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestMemoryStoreHistoryStaysBounded: runs dropped by the per-job bound must
// not linger in the store's global order of finished runs, or a process
// with many jobs grows without limit while staying under MaxRuns.
func TestMemoryStoreHistoryStaysBounded(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{MaxRunsPerJob: 2, MaxRuns: 1000000})
	ctx := context.Background()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10000 {
		at := base.Add(time.Duration(i) * time.Second)
		r := &Run{ID: fmt.Sprintf("r%05d", i), JobID: fmt.Sprintf("job-%d", i%10), Scheduled: at, Attempt: 1,
			State: RunSucceeded, Finished: at}
		if _, err := m.AddRuns(ctx, []*Run{r}); err != nil {
			t.Fatal(err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.runs) != 20 || m.nFinish != 20 {
		t.Fatalf("kept %d runs (counted %d), want 2 per job for 10 jobs", len(m.runs), m.nFinish)
	}
	if len(m.finished) > 4*20 {
		t.Errorf("the finished-run order holds %d entries for 20 kept runs", len(m.finished))
	}
}

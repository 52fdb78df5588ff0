package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func testNotices(t *testing.T, newStore NewStore) {
	s := newStore(t)
	n, ok := s.(sundial.Notifier)
	if !ok {
		t.Log("the store does not push notices; the scheduler polls it")
		return
	}
	var mu sync.Mutex
	var got []sundial.NoticeKind
	unsubscribe := n.Subscribe(func(x sundial.Notice) {
		mu.Lock()
		got = append(got, x.Kind)
		mu.Unlock()
	})
	ctx := context.Background()
	mustAdd(t, s, job("a", base))
	addPending(t, s, pendingRun("a", base))
	r := claimRuns(t, s, "n", base, 1)[0]
	finish(t, s, r, sundial.RunSucceeded, base.Add(time.Second), nil)
	unsubscribe()
	s.RemoveJob(ctx, "a")
	mu.Lock()
	defer mu.Unlock()
	want := []sundial.NoticeKind{sundial.NoticeJobsChanged, sundial.NoticeRunsCreated, sundial.NoticeRunFinished}
	if len(got) != len(want) {
		t.Fatalf("notices %v, want %v (none after unsubscribe)", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("notice %d = %v, want %v", i, got[i], want[i])
		}
	}
}

package redisstore_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/redisstore"
)

// noticeLog collects a Store's notices.
type noticeLog struct {
	mu  sync.Mutex
	got []sundial.Notice
}

func (l *noticeLog) add(n sundial.Notice) {
	l.mu.Lock()
	l.got = append(l.got, n)
	l.mu.Unlock()
}

// has reports whether a notice of kind (about job, unless "*") came.
func (l *noticeLog) has(kind sundial.NoticeKind, job string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.got {
		if n.Kind == kind && (job == "*" || n.JobID == job) {
			return true
		}
	}
	return false
}

func (l *noticeLog) reset() {
	l.mu.Lock()
	l.got = nil
	l.mu.Unlock()
}

func (l *noticeLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got)
}

// listen subscribes a log to s's notices until the test ends, and waits
// for the subscription to be up.
func listen(t *testing.T, s *redisstore.Store) *noticeLog {
	t.Helper()
	l := &noticeLog{}
	t.Cleanup(s.Subscribe(l.add))
	waitFor(t, "the subscription", 5*time.Second, s.NoticesLive)
	return l
}

// TestNoticesAcrossStores has Store B hear of the changes made through
// Store A, with the job's next fire, and A hear of its own once.
func TestNoticesAcrossStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := newPrefix(t)
	a, b := open(t, prefix), open(t, prefix)
	la, lb := listen(t, a), listen(t, b)
	next := base.Add(time.Minute)
	j := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: next}
	if _, err := a.AddJob(ctx, j, sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddRuns(ctx, []*sundial.Run{pendingRunAt("j", base)}); err != nil {
		t.Fatal(err)
	}
	runs, _ := a.ClaimRuns(ctx, sundial.RunClaim{Node: "n", Now: base, Horizon: base, Limit: map[string]int{"default": 1}})
	done := runs[0].Clone()
	done.State, done.Finished = sundial.RunSucceeded, base.Add(time.Second)
	if err := a.FinishRun(ctx, done, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B's notices", 5*time.Second, func() bool { return lb.len() == 3 })
	lb.mu.Lock()
	got := lb.got
	lb.mu.Unlock()
	want := []sundial.NoticeKind{sundial.NoticeJobsChanged, sundial.NoticeRunsCreated, sundial.NoticeRunFinished}
	for i, n := range got {
		if n.Kind != want[i] || n.JobID != "j" {
			t.Errorf("B's notice %d = %+v, want %v about j", i, n, want[i])
		}
	}
	if !got[0].NextFire.Equal(next) {
		t.Errorf("B's jobs-changed notice has next fire %s, want %s", got[0].NextFire, next)
	}
	// A published its own changes too: a round trip through B proves they
	// arrived, and A delivered each once, not again from Redis.
	a.RemoveJob(ctx, "j")
	waitFor(t, "B's fourth notice", 5*time.Second, func() bool { return lb.len() == 4 })
	if n := la.len(); n != 4 {
		t.Errorf("A delivered %d notices of its own 4 changes", n)
	}
}

// TestSubscriptionReconnects kills a Store's subscription connection: it
// delivers NoticeJobsChanged when it drops and NoticeJobsChanged and
// NoticeRunsCreated when it is back, and then hears other Stores again.
func TestSubscriptionReconnects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := newPrefix(t)
	a, name := openNamed(t, prefix)
	b := open(t, prefix)
	l := listen(t, a)
	for round := range 3 {
		l.reset()
		if n := killConns(t, name, "pubsub"); n != 1 {
			t.Fatalf("round %d: killed %d subscription connections, want 1", round, n)
		}
		waitFor(t, "the reconnection notices", 5*time.Second, func() bool {
			return l.has(sundial.NoticeRunsCreated, "") && a.NoticesLive()
		})
		l.mu.Lock()
		got := append([]sundial.Notice(nil), l.got...)
		l.mu.Unlock()
		want := []sundial.NoticeKind{sundial.NoticeJobsChanged, sundial.NoticeJobsChanged, sundial.NoticeRunsCreated}
		if len(got) != len(want) {
			t.Fatalf("round %d: notices %+v, want %v", round, got, want)
		}
		for i := range want {
			if got[i].Kind != want[i] {
				t.Errorf("round %d: notice %d = %v, want %v", round, i, got[i].Kind, want[i])
			}
		}
		j := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: base}
		if _, err := b.AddJob(ctx, j, sundial.ConflictReplace, base); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a notice from B after reconnecting", 5*time.Second, func() bool { return l.has(sundial.NoticeJobsChanged, "j") })
	}
}

// gate is a dialer that can be shut: a server that cannot be reached.
type gate struct{ shut atomic.Bool }

var errShut = errors.New("test: dialing refused")

func (g *gate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if g.shut.Load() {
		return nil, errShut
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// TestNoticesDownWhileUnreachable cuts a Store off from Redis: its
// notices are not live, its calls fail with the Store's own errors, and
// when Redis can be reached again both work.
func TestNoticesDownWhileUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, name := named(t)
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{}
	opts.Dialer, opts.MaxRetries = g.dial, -1
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	prefix := newPrefix(t)
	s, err := redisstore.New(ctx, redisstore.Config{Client: rdb, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := listen(t, s)

	g.shut.Store(true)
	killConns(t, name, "")
	waitFor(t, "notices down", 5*time.Second, func() bool { return !s.NoticesLive() })
	_, err = s.GetJob(ctx, "j")
	var re redis.Error
	if err == nil || !strings.HasPrefix(err.Error(), "redisstore: get job j: ") || errors.As(err, &re) ||
		errors.Is(err, sundial.ErrNotFound) {
		t.Errorf("GetJob while unreachable = %v; want a redisstore error", err)
	}
	if !l.has(sundial.NoticeJobsChanged, "") {
		t.Error("no NoticeJobsChanged when the notices stopped")
	}

	l.reset()
	g.shut.Store(false)
	waitFor(t, "notices back", 10*time.Second, func() bool { return s.NoticesLive() && l.has(sundial.NoticeRunsCreated, "") })
	if _, err := s.GetJob(ctx, "j"); !errors.Is(err, sundial.ErrNotFound) {
		t.Errorf("GetJob once reachable again = %v; want not found", err)
	}
	other := open(t, prefix)
	j := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: base}
	if _, err := other.AddJob(ctx, j, sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a notice from another Store", 5*time.Second, func() bool { return l.has(sundial.NoticeJobsChanged, "j") })
}

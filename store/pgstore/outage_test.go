package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/pgstore"
)

// proxy forwards TCP connections to the test server. Stopping it closes
// every connection and refuses new ones, as a server that went down
// does; starting it again, on the same address, is the server back up.
// It stands in for a restart of PostgreSQL, which other tests (and
// other packages' tests) running on the same server would not survive.
type proxy struct {
	target, addr string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// newProxy starts a proxy to the server of db and returns it with db's
// URL pointed at it. It stops when the test ends.
func newProxy(t *testing.T, db testDB) (*proxy, testDB) {
	t.Helper()
	u, err := url.Parse(db.url)
	if err != nil || u.Host == "" {
		t.Skipf("the outage tests need %s as a URL with a host: %v", "SUNDIAL_TEST_POSTGRES_URL", err)
	}
	p := &proxy{target: u.Host, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	p.up(t)
	u.Host = p.addr
	db.url = u.String()
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p, db
}

// up listens (again) and forwards what it accepts.
func (p *proxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.forward(c) })
		}
	})
}

// forward copies between a client and a new connection to the server.
func (p *proxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, s) {
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) { io.Copy(dst, src); done <- struct{}{} }
	go pipe(s, c)
	go pipe(c, s)
	<-done
	c.Close()
	s.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

// track remembers a pair of connections, or closes them if the proxy is
// down.
func (p *proxy) track(c, s net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		s.Close()
		return false
	}
	p.conns[c], p.conns[s] = true, true
	return true
}

// down closes the listener and every connection.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// storeCalls calls every method of the Store once, each with a short
// deadline, and returns their errors by name.
func storeCalls(s *pgstore.Store, now time.Time) map[string]error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	run := &sundial.Run{ID: "r-" + now.Format("150405.000000000"), JobID: "a", Task: "noop", Scheduled: now, Due: now, Attempt: 1, State: sundial.RunPending}
	done := run.Clone()
	done.State, done.Node, done.Finished = sundial.RunSucceeded, "n", now
	errs := map[string]error{
		"Migrate":       s.Migrate(ctx),
		"AddJob":        second(s.AddJob(ctx, job("a", now), sundial.ConflictReplace, now)),
		"AddJobs":       second(s.AddJobs(ctx, []*sundial.Job{job("b", now)}, sundial.ConflictReplace, now)),
		"GetJob":        second(s.GetJob(ctx, "a")),
		"ListJobs":      second(s.ListJobs(ctx, sundial.JobFilter{})),
		"NextFireTime":  second(s.NextFireTime(ctx)),
		"ClaimDueJobs":  second(s.ClaimDueJobs(ctx, sundial.JobClaim{Node: "n", Now: now, Horizon: now, Lease: time.Second})),
		"CommitFires":   second(s.CommitFires(ctx, []sundial.FireCommit{{JobID: "a", Token: 1}}, now)),
		"AddRuns":       second(s.AddRuns(ctx, []*sundial.Run{run})),
		"ClaimRuns":     second(s.ClaimRuns(ctx, sundial.RunClaim{Node: "n", Now: now, Horizon: now, Limit: map[string]int{"default": 1}})),
		"GetRun":        second(s.GetRun(ctx, run.ID)),
		"ListRuns":      second(s.ListRuns(ctx, sundial.RunFilter{})),
		"PruneRuns":     second(s.PruneRuns(ctx, sundial.Retention{MaxAge: time.Hour}, now)),
		"Heartbeat":     second(s.Heartbeat(ctx, sundial.NodeInfo{ID: "n"}, now)),
		"RecoverRuns":   second(s.RecoverRuns(ctx, now)),
		"StoreNow":      second(s.StoreNow(ctx)),
		"PublishEvents": s.PublishEvents(ctx, []byte(`[]`)),
		"FinishRuns":    s.FinishRuns(ctx, []sundial.RunEnd{{Run: done}})[0],
		"UpdateJob":     second(s.UpdateJob(ctx, job("zz", now), now)),
		"RemoveJob":     s.RemoveJob(ctx, "b"),
		"RemoveAllJobs": second(s.RemoveAllJobs(ctx)),
	}
	return errs
}

// TestServerOutage cuts the Store off from the server: every method
// fails with an error of this package (no pgx type in it) and the
// listener reports its notices down; when the server is back, the same
// pool and listener work again with nothing to do for the caller.
func TestServerOutage(t *testing.T) {
	t.Parallel()
	p, db := newProxy(t, newDB(t))
	s := db.open(t)
	log := watch(t, s)
	if !s.NoticesLive() {
		t.Fatal("notices not live before the outage")
	}
	p.down()
	log.expect(t, sundial.NoticeJobsChanged) // the listener lost its connection
	if s.NoticesLive() {
		t.Error("NoticesLive = true while the server is down")
	}
	for name, err := range storeCalls(s, base) {
		var pe *pgconn.PgError
		var ce *pgconn.ConnectError
		switch {
		case err == nil:
			t.Errorf("%s succeeded while the server was down", name)
		case !strings.HasPrefix(err.Error(), "pgstore: "), errors.As(err, &pe), errors.As(err, &ce):
			t.Errorf("%s: %v (%T), want a pgstore error with no pgx type in it", name, err, err)
		case errors.Is(err, sundial.ErrNotFound), errors.Is(err, sundial.ErrConflict), errors.Is(err, sundial.ErrInvalid):
			t.Errorf("%s: %v matches a sentinel: the caller would think the store answered", name, err)
		}
	}

	p.up(t)
	for _, n := range log.expect(t, sundial.NoticeJobsChanged, sundial.NoticeRunsCreated) { // listening again
		if !n.live {
			t.Errorf("notice %v after the listener reconnected: NoticesLive = false", n.Kind)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		failed := 0
		for name, err := range storeCalls(s, base.Add(time.Minute)) {
			if err != nil && !errors.Is(err, sundial.ErrNotFound) && !errors.Is(err, sundial.ErrConflict) {
				failed++
				if time.Now().After(deadline) {
					t.Errorf("%s after the server came back: %v", name, err)
				}
			}
		}
		if failed == 0 || time.Now().After(deadline) {
			break
		}
	}
}

// TestSchedulerSurvivesOutage runs a scheduler while its server goes away
// for 2 s: it logs, backs off, reconnects and carries on, and every fire
// of the window runs exactly once, late rather than lost.
func TestSchedulerSurvivesOutage(t *testing.T) {
	t.Parallel()
	const jobs, every, fires = 5, 200 * time.Millisecond, 25
	p, db := newProxy(t, newDB(t))
	record := &taskRecord{ran: map[string]int{}}
	cfg := sundial.Config{Store: db.open(t), NodeID: "n", PollInterval: 100 * time.Millisecond}
	s := startScheduler(t, cfg, map[string]sundial.TaskFunc{"rec": func(ctx context.Context, r *sundial.Run) error {
		record.add(r)
		return nil
	}})
	start := time.Now().Add(time.Second).Truncate(time.Second).Add(time.Second) // 1 to 2 s ahead: every job is added before its first fire
	end := start.Add((fires - 1) * every)
	for i := range jobs {
		j := &sundial.Job{ID: fmt.Sprintf("job-%d", i), Task: "rec", Coalesce: sundial.CoalesceAll, Overlap: sundial.OverlapQueueAll,
			Trigger: sundial.MustEvery(every, &sundial.IntervalOptions{Start: start, End: end})}
		if _, err := s.AddJob(context.Background(), j, nil); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Until(start.Add(time.Second))) // the outage begins mid-window
	p.down()
	time.Sleep(2 * time.Second)
	p.up(t)
	waitRuns(t, cfg.Store, jobs*fires, sundial.RunSucceeded, end.Add(20*time.Second))
	for i := range jobs {
		checkFires(t, cfg.Store, record, fmt.Sprintf("job-%d", i), start, every, fires)
	}
}

// TestBackendsTerminated has the server end every connection of the
// Store (pg_terminate_backend, what a restart does to them): calls fail
// at most while the pool replaces its connections, then work, and the
// listener reconnects and says so.
func TestBackendsTerminated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	s := db.open(t)
	log := watch(t, s)
	if _, err := s.AddJob(ctx, job("a", base), sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	log.expect(t, sundial.NoticeJobsChanged)
	if n := killBackends(t, db, "true"); n < 2 {
		t.Fatalf("terminated %d connections, want the listener's and the pool's", n)
	}
	log.expect(t, sundial.NoticeJobsChanged) // the listener lost its connection
	for _, n := range log.expect(t, sundial.NoticeJobsChanged, sundial.NoticeRunsCreated) {
		if !n.live {
			t.Errorf("notice %v after the listener reconnected: NoticesLive = false", n.Kind)
		}
	}
	var err error
	for range 5 { // each dead pooled connection may fail one call
		if _, err = s.GetJob(ctx, "a"); err == nil {
			break
		}
		if !strings.HasPrefix(err.Error(), "pgstore: ") {
			t.Errorf("GetJob on a terminated connection: %v, want a pgstore error", err)
		}
	}
	if err != nil {
		t.Fatalf("GetJob after the connections were terminated: %v", err)
	}
	if _, err := s.AddJob(ctx, job("b", base), sundial.ConflictError, base); err != nil {
		t.Errorf("AddJob after the connections were terminated: %v", err)
	}
}

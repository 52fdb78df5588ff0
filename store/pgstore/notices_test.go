package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/pgstore"
)

// noticeLog collects notices, with whether the store said its notices
// were live when each arrived.
type noticeLog struct {
	c chan seenNotice
}

type seenNotice struct {
	sundial.Notice
	live bool
}

func watch(t *testing.T, s *pgstore.Store) *noticeLog {
	l := &noticeLog{c: make(chan seenNotice, 100)}
	t.Cleanup(s.Subscribe(func(n sundial.Notice) { l.c <- seenNotice{n, s.NoticesLive()} }))
	return l
}

// next waits for the next notice, failing after a generous timeout.
func (l *noticeLog) next(t *testing.T) seenNotice {
	t.Helper()
	select {
	case n := <-l.c:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no notice within 10s")
		return seenNotice{}
	}
}

// expect waits for notices of the given kinds, in order.
func (l *noticeLog) expect(t *testing.T, kinds ...sundial.NoticeKind) []seenNotice {
	t.Helper()
	var out []seenNotice
	for _, k := range kinds {
		n := l.next(t)
		if n.Kind != k {
			t.Fatalf("notice %+v, want kind %v", n, k)
		}
		out = append(out, n)
	}
	return out
}

// quiet fails if a notice arrives within a short while.
func (l *noticeLog) quiet(t *testing.T) {
	t.Helper()
	select {
	case n := <-l.c:
		t.Fatalf("unexpected notice %+v", n)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestNoticesAcrossStores changes jobs and runs through one Store and
// hears of each, once, on another: the commits' NOTIFYs, coalesced.
func TestNoticesAcrossStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stores := openMany(t, 2)
	a, b := stores[0], stores[1]
	own, other := watch(t, a), watch(t, b)
	if !b.NoticesLive() {
		t.Fatal("NoticesLive = false after Subscribe returned")
	}

	if _, err := a.AddJob(ctx, job("a", base.Add(time.Minute)), sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	n := other.expect(t, sundial.NoticeJobsChanged)[0]
	if n.JobID != "a" || !n.NextFire.Equal(base.Add(time.Minute)) || !n.live {
		t.Errorf("notice of AddJob = %+v, want job a, its next fire, live", n)
	}
	own.expect(t, sundial.NoticeJobsChanged)

	var runs []*sundial.Run
	for i := range 500 {
		runs = append(runs, &sundial.Run{ID: sundial.NewRunID(base), JobID: "a", Task: "noop",
			Scheduled: base.Add(-time.Duration(i) * time.Second), Due: base, Attempt: 1, State: sundial.RunPending})
	}
	if _, err := a.AddRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	other.expect(t, sundial.NoticeRunsCreated) // one for the 500
	own.expect(t, sundial.NoticeRunsCreated)

	started, err := a.ClaimRuns(ctx, sundial.RunClaim{Node: "n", Now: base, Horizon: base, Limit: map[string]int{"default": 1}})
	if err != nil || len(started) != 1 {
		t.Fatalf("ClaimRuns = %d, %v", len(started), err)
	}
	done := started[0].Clone()
	done.State, done.Finished = sundial.RunSucceeded, base.Add(time.Second)
	if err := a.FinishRun(ctx, done, nil); err != nil {
		t.Fatal(err)
	}
	other.expect(t, sundial.NoticeRunFinished)
	own.expect(t, sundial.NoticeRunFinished)
	other.quiet(t)
	own.quiet(t)
}

// TestListenerReconnects kills the listener's connection: NoticesLive
// turns false and a notice wakes the subscriber, the listener reconnects
// by itself, says so with notices (NoticesLive true again), and notices
// flow again.
func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	a, b := db.open(t), db.open(t)
	log := watch(t, b)
	killed := killBackends(t, db, `query LIKE 'LISTEN%'`)
	if killed != 1 {
		t.Fatalf("terminated %d listener connections, want 1", killed)
	}
	if n := log.expect(t, sundial.NoticeJobsChanged)[0]; n.live {
		t.Errorf("notice when the connection dropped: NoticesLive = true, want false")
	}
	for _, n := range log.expect(t, sundial.NoticeJobsChanged, sundial.NoticeRunsCreated) {
		if !n.live {
			t.Errorf("notice %v after reconnecting: NoticesLive = false, want true", n.Kind)
		}
	}
	if _, err := a.AddJob(ctx, job("after", base), sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	if n := log.expect(t, sundial.NoticeJobsChanged)[0]; n.JobID != "after" {
		t.Errorf("notice after reconnecting = %+v, want job after", n)
	}
}

// killBackends terminates the connections of the test's schema whose
// pg_stat_activity row matches where, and returns how many.
func killBackends(t *testing.T, db testDB, where string) int {
	t.Helper()
	var n int
	err := admin(t).QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid() AND (`+where+`)`, db.schema).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEventsAcrossStores publishes batches of events through one Store:
// every Store on the schema receives them, the publisher included. A
// batch too large for one NOTIFY arrives in parts, in order; an event too
// large by itself arrives through the event_batches table.
func TestEventsAcrossStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stores := openMany(t, 2)
	a, b := stores[0], stores[1]
	got := map[*pgstore.Store]chan []byte{a: make(chan []byte, 100), b: make(chan []byte, 100)}
	for s, c := range got {
		t.Cleanup(s.SubscribeEvents(func(batch []byte) { c <- batch }))
	}
	small := events(3, "")
	many := events(200, "")
	huge := events(1, strings.Repeat("frame\n", 3000))
	for _, batch := range [][]sundial.Event{small, many, huge} {
		data, err := sundial.EncodeEvents(batch)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.PublishEvents(ctx, data); err != nil {
			t.Fatalf("PublishEvents(%d events, %d bytes): %v", len(batch), len(data), err)
		}
	}
	for s, c := range got {
		var subjects []string
		for len(subjects) < len(small)+len(many)+len(huge) {
			select {
			case data := <-c:
				evs, err := sundial.DecodeEvents(data)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range evs {
					subjects = append(subjects, e.Subject)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("store %p: %d events arrived, want %d", s, len(subjects), len(small)+len(many)+len(huge))
			}
		}
		want := append(append(subjectsOf(small), subjectsOf(many)...), subjectsOf(huge)...)
		if strings.Join(subjects, ",") != strings.Join(want, ",") {
			t.Errorf("events arrived as %v, want %v", subjects, want)
		}
	}
	var stored int
	if err := admin(t).QueryRow(ctx, `SELECT count(*) FROM `+a.Schema()+`.event_batches`).Scan(&stored); err != nil || stored != 1 {
		t.Errorf("event_batches holds %d rows (%v), want 1: the huge event", stored, err)
	}
	if err := a.PublishEvents(ctx, []byte(strings.Repeat("x", 9000))); !errors.Is(err, sundial.ErrInvalid) {
		t.Errorf("PublishEvents(not JSON) = %v, want ErrInvalid", err)
	}
}

// events returns n events, each with a stack of the given text.
func events(n int, stack string) []sundial.Event {
	out := make([]sundial.Event, n)
	for i := range out {
		out[i] = sundial.Event{Type: sundial.EventJobError, Time: base, Node: "a", JobID: "job",
			Subject: strings.Repeat("s", 20) + string(rune('A'+i%26)) + time.Duration(i).String(), Stack: stack}
	}
	return out
}

func subjectsOf(evs []sundial.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Subject
	}
	return out
}

package alert

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait for something asynchronous: generous, since
// nothing in these tests sleeps.
const wait = 10 * time.Second

var start = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// request is what a test server received.
type request struct {
	n      int // 1 for the first request
	header http.Header
	body   []byte
}

// text returns the "text" field of a JSON body.
func (r request) text(t *testing.T) string {
	t.Helper()
	var v struct{ Text string }
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return v.Text
}

// server is an httptest server that records requests; answer decides the
// response to the nth request (nil: 200 ok).
type server struct {
	*httptest.Server
	got   chan request
	count atomic.Int64
}

func newServer(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{got: make(chan request, 1000)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.count.Add(1))
		body, _ := io.ReadAll(r.Body)
		s.got <- request{n: n, header: r.Header.Clone(), body: body}
		if answer != nil {
			answer(n, w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// next returns the next request the server received.
func (s *server) next(t *testing.T) request {
	t.Helper()
	select {
	case r := <-s.got:
		return r
	case <-time.After(wait):
		t.Fatalf("no request within %v", wait)
		return request{}
	}
}

// fixture is an Alerter on a fake clock, sending to a Slack test server.
type fixture struct {
	a     *Alerter
	clock *sundialtest.Clock
	slack *server
}

// setup returns a fixture; cfg's zero Clock, Destinations and Retry
// backoff are filled in, and the Alerter is closed with the test.
func setup(t *testing.T, cfg Config, answer func(int, http.ResponseWriter, *http.Request)) *fixture {
	t.Helper()
	f := &fixture{clock: sundialtest.NewClock(start), slack: newServer(t, answer)}
	if cfg.Clock == nil {
		cfg.Clock = f.clock
	}
	if cfg.Destinations == nil {
		cfg.Destinations = []Destination{Slack{URL: f.slack.URL}}
	}
	if cfg.Retry.Backoff == 0 {
		cfg.Retry.Backoff, cfg.Retry.MaxBackoff = time.Millisecond, 5*time.Millisecond
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.a = a
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return f
}

// advance moves the clock and waits until the Alerter has handled the
// timers that fell due.
func (f *fixture) advance(d time.Duration) {
	f.clock.Advance(d)
	f.a.sync()
}

// text returns the text of the next message the Slack server got.
func (f *fixture) text(t *testing.T) string {
	t.Helper()
	return f.slack.next(t).text(t)
}

// quiet closes the Alerter, which delivers everything queued, and fails
// the test if the server got any message.
func (f *fixture) quiet(t *testing.T) {
	t.Helper()
	if err := f.a.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case r := <-f.slack.got:
		t.Fatalf("got a message, want none: %s", r.body)
	default:
	}
}

// event returns an event of a run of job at the clock's time.
func (f *fixture) event(typ sundial.EventType, job, run string, scheduled time.Time) sundial.Event {
	now := f.clock.Now()
	return sundial.Event{Type: typ, Time: now, Node: "n1", JobID: job, RunID: run, Scheduled: scheduled, Attempt: 1,
		Run: &sundial.Run{ID: run, JobID: job, Scheduled: scheduled, Due: scheduled, Started: now, Node: "n1"}}
}

func wantContains(t *testing.T, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("text does not contain %q:\n%s", p, text)
		}
	}
}

// logs collects log records for a test.
type logs chan slog.Record

func (l logs) Enabled(context.Context, slog.Level) bool { return true }
func (l logs) Handle(_ context.Context, r slog.Record) error {
	l <- r.Clone()
	return nil
}
func (l logs) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logs) WithGroup(string) slog.Handler      { return l }

// next returns the next record with the message msg and its "err".
func (l logs) next(t *testing.T, msg string) string {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case r := <-l:
			if r.Message != msg {
				continue
			}
			var err string
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == "err" {
					err = a.Value.String()
				}
				return true
			})
			return err
		case <-deadline:
			t.Fatalf("no %q log within %v", msg, wait)
			return ""
		}
	}
}

func TestListenAfterCloseIsIgnored(t *testing.T) {
	f := setup(t, Config{}, nil)
	if err := f.a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.a.Listen(f.event(sundial.EventJobError, "j", "r1", start))
	if err := f.a.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := f.slack.count.Load(); n != 0 {
		t.Errorf("%d requests after Close, want 0", n)
	}
}

func TestAttachTwicePanics(t *testing.T) {
	f := setup(t, Config{}, nil)
	s, err := sundial.New(sundial.Config{Clock: f.clock, Role: sundial.RoleClient})
	if err != nil {
		t.Fatal(err)
	}
	f.a.Attach(s)
	defer func() {
		if recover() == nil {
			t.Error("a second Attach did not panic")
		}
	}()
	f.a.Attach(s)
}

func TestKindsAndMute(t *testing.T) {
	f := setup(t, Config{Kinds: []Kind{KindFailed}, Jobs: map[string]JobRules{"noisy": {Mute: true}}}, nil)
	f.a.Listen(f.event(sundial.EventJobError, "noisy", "r1", start))
	f.a.Listen(sundial.Event{Type: sundial.EventNodeLost, Subject: "n2", Node: "n1"})
	f.a.Listen(f.event(sundial.EventJobError, "reports", "r2", start))
	if got := f.text(t); !strings.HasPrefix(got, "Job reports failed") {
		t.Errorf("first message %q, want the failure of reports (noisy is muted, node_lost not a chosen kind)", got)
	}
	f.quiet(t)
}

// Events from other nodes inform but never alert: each node alerts for
// what happened on it, so a cluster sends one message, not one per node.
func TestRemoteEventsSendNothing(t *testing.T) {
	f := setup(t, Config{}, nil)
	for _, typ := range []sundial.EventType{sundial.EventRunStarted, sundial.EventJobError, sundial.EventRunInterrupted,
		sundial.EventRunSlow, sundial.EventJobMissed, sundial.EventNodeLost} {
		e := f.event(typ, "j", "r-"+typ.String(), start)
		e.Remote, e.Node, e.Err, e.Subject = true, "n2", "boom", "n3"
		f.a.Listen(e)
	}
	f.advance(time.Hour)
	f.a.Listen(f.event(sundial.EventJobError, "j", "local", start))
	wantContains(t, f.text(t), "j")
	f.quiet(t)
}

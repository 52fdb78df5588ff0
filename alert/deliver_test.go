package alert

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// statuses answers the nth request with codes[n-1], then 200.
func statuses(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= len(codes) {
			if codes[n-1] == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			http.Error(w, "try later", codes[n-1])
		}
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	f := setup(t, Config{}, statuses(500, 503, 429))
	f.fail("j", 0)
	for want := 1; want <= 4; want++ {
		if r := f.slack.next(t); r.n != want || !strings.HasPrefix(r.text(t), "Job j failed") {
			t.Fatalf("request %d: %+v", want, r)
		}
	}
	f.quiet(t) // delivered on the 4th attempt: nothing more
}

func TestNoRetryOnClientError(t *testing.T) {
	log := make(logs, 100)
	f := setup(t, Config{Logger: slog.New(log)}, statuses(400, 400))
	f.fail("j", 0)
	f.slack.next(t)
	if err := log.next(t, "alert_not_sent"); !strings.Contains(err, "attempt 1: alert: HTTP 400 Bad Request: try later") {
		t.Errorf("logged %q", err)
	}
	f.quiet(t)
}

func TestRetriesGiveUp(t *testing.T) {
	log := make(logs, 100)
	f := setup(t, Config{Logger: slog.New(log), Retry: sundial.RetryPolicy{Attempts: 3, Backoff: time.Millisecond}},
		statuses(500, 500, 500, 500))
	f.fail("j", 0)
	for range 3 {
		f.slack.next(t)
	}
	if err := log.next(t, "alert_not_sent"); !strings.Contains(err, "attempt 3: alert: HTTP 500") {
		t.Errorf("logged %q", err)
	}
	f.quiet(t)
}

// hang answers the first n requests only when the client gives up.
func hang(n int) func(int, http.ResponseWriter, *http.Request) {
	return func(i int, w http.ResponseWriter, r *http.Request) {
		if i <= n {
			<-r.Context().Done()
		}
	}
}

func TestTimeoutThenRetry(t *testing.T) {
	f := setup(t, Config{Timeout: 50 * time.Millisecond}, hang(1))
	f.fail("j", 0)
	if r := f.slack.next(t); r.n != 1 {
		t.Fatalf("first request %d", r.n)
	}
	if r := f.slack.next(t); r.n != 2 || !strings.HasPrefix(r.text(t), "Job j failed") {
		t.Fatalf("second request %+v", r)
	}
}

func TestTimeoutLogged(t *testing.T) {
	log := make(logs, 100)
	f := setup(t, Config{Logger: slog.New(log), Timeout: 20 * time.Millisecond,
		Retry: sundial.RetryPolicy{Attempts: 2, Backoff: time.Millisecond}}, hang(2))
	f.fail("j", 0)
	err := log.next(t, "alert_not_sent")
	if !strings.Contains(err, "attempt 2: alert: post: context deadline exceeded") {
		t.Errorf("logged %q", err)
	}
	if strings.Contains(err, "127.0.0.1") {
		t.Errorf("the URL was logged: %q", err)
	}
}

// TestCloseHonoursContext: Close gives up on a destination that does not
// answer when its context ends, and says what was not sent.
func TestCloseHonoursContext(t *testing.T) {
	f := setup(t, Config{Timeout: time.Hour, RateLimit: -1}, hang(100))
	f.fail("j", 0)
	f.fail("j", 1)
	f.slack.next(t) // the first is in flight, the second queued
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := f.a.Close(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "alert: close: 2 messages not sent") {
		t.Errorf("Close = %v, want 2 messages not sent", err)
	}
}

// TestSlowDestinationDelaysNoOther: each destination has its own queue.
func TestSlowDestinationDelaysNoOther(t *testing.T) {
	stuck := newServer(t, hang(100))
	f := setup(t, Config{Timeout: time.Hour}, nil)
	a, err := New(Config{Clock: f.clock, Timeout: time.Hour,
		Destinations: []Destination{Webhook{URL: stuck.URL}, Slack{URL: f.slack.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	f.fail("j", 0)
	stuck.next(t)
	wantContains(t, f.text(t), "Job j failed")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = a.Close(ctx)
}

func TestQueueFullDrops(t *testing.T) {
	log := make(logs, 100)
	f := setup(t, Config{Logger: slog.New(log), QueueSize: 1, RateLimit: -1, Timeout: time.Hour}, hang(100))
	f.fail("j", 0)
	f.slack.next(t) // in flight
	f.fail("j", 1)  // queued
	f.fail("j", 2)  // dropped
	log.next(t, "alert_queue_full")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.a.Close(ctx); err == nil || !strings.Contains(err.Error(), "2 messages not sent") {
		t.Errorf("Close = %v", err)
	}
}

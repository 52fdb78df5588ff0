package alert

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func TestWebhookPayload(t *testing.T) {
	hook := newServer(t, nil)
	f := setup(t, Config{Destinations: []Destination{Webhook{URL: hook.URL,
		Headers: map[string]string{"Authorization": "Bearer s3cret"}}}}, nil)
	e := f.event(sundial.EventJobError, "billing", "RUN1", start)
	e.Err, e.Stack, e.Duration = "boom", panicStack, 1500*time.Millisecond
	f.a.Listen(e)
	r := hook.next(t)
	if got := r.header.Get("Authorization"); got != "Bearer s3cret" {
		t.Errorf("Authorization %q", got)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"kind": "failed", "title": "Job billing failed", "job_id": "billing", "run_id": "RUN1",
		"node": "n1", "attempt": 1.0, "scheduled": "2024-01-01T12:00:00Z", "time": "2024-01-01T12:00:00Z",
		"duration": "1.5s", "duration_seconds": 1.5, "detail": "it ran for 1.5s", "error": "boom"}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %#v, want %#v", k, p[k], v)
		}
	}
	if s, _ := p["stack"].(string); !strings.HasPrefix(s, "goroutine 42 [running]:\npanic(") {
		t.Errorf("stack %q", s)
	}
	if s, _ := p["text"].(string); !strings.HasPrefix(s, "Job billing failed\n") {
		t.Errorf("text %q", s)
	}
	for _, k := range []string{"suppressed", "suppressed_since"} {
		if _, ok := p[k]; ok {
			t.Errorf("%s present with nothing suppressed", k)
		}
	}
}

func TestSlackEscapes(t *testing.T) {
	f := setup(t, Config{}, nil)
	e := f.event(sundial.EventJobError, "j", "R", start)
	e.Err = "<b> & <c>"
	f.a.Listen(e)
	r := f.slack.next(t)
	if !strings.Contains(string(r.body), `error: \u0026lt;b\u0026gt; \u0026amp; \u0026lt;c\u0026gt;`) {
		t.Errorf("body %s", r.body)
	}
}

func TestHTTPErrors(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		http.Error(w, "rate_limited", http.StatusTooManyRequests)
	})
	err := Slack{URL: srv.URL}.Send(context.Background(), Message{Text: "x"})
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 429 || he.Body != "rate_limited" || he.RetryAfter != 7*time.Second || !he.Temporary() {
		t.Fatalf("Send = %#v", err)
	}
	if got := err.Error(); got != "alert: HTTP 429 Too Many Requests: rate_limited" {
		t.Errorf("Error() = %q", got)
	}
	srv.Close()
	err = Webhook{URL: srv.URL + "/secret-token"}.Send(context.Background(), Message{Text: "x"})
	if err == nil || strings.Contains(err.Error(), "secret-token") || !strings.HasPrefix(err.Error(), "alert: post: ") {
		t.Errorf("Send to a closed server = %v, want an error without the URL", err)
	}
	if !retryable(err) || retryable(&HTTPError{Status: 404}) || !retryable(&HTTPError{Status: 502}) {
		t.Error("retryable")
	}
}

func TestLimits(t *testing.T) {
	if (Slack{}).Limit() != 3000 || (Webhook{}).Limit() != 64<<10 || (Webhook{MaxBytes: 500}).Limit() != 500 {
		t.Error("limits")
	}
}

package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Destination is where messages go.
type Destination interface {
	// Send delivers one message; ctx bounds this attempt. The Alerter
	// retries an *HTTPError whose status is 429 or 5xx, and any error that
	// is not an *HTTPError (a timeout, a refused connection); other
	// errors are final.
	Send(ctx context.Context, m Message) error
	// Limit is the most bytes of Message.Text the destination takes
	// (at least 256). The Alerter cuts longer texts before Send: the stack
	// trace first, then the error.
	Limit() int
}

// SlackLimit is the most bytes of text a Slack message gets. Slack takes
// up to 40,000 characters of text and 3,000 per block; 3,000 bytes keep a
// message to one screen, and stay under 40,000 characters after escaping
// (at most 5 bytes per byte, for "&amp;").
const SlackLimit = 3000

// DefaultWebhookLimit is a Webhook's Limit when MaxBytes is zero.
const DefaultWebhookLimit = 64 << 10

// Slack posts messages to a Slack incoming webhook
// (https://api.slack.com/messaging/webhooks) as the message's text, with
// &, < and > escaped and the stack trace in a code block.
type Slack struct {
	URL    string       // the webhook URL, https://hooks.slack.com/services/...
	Client *http.Client // nil means http.DefaultClient
}

// Send posts m.Text. It fails with an *HTTPError when Slack answers other
// than 2xx (404 no_service, 410 channel_is_archived, 429 rate limited…).
func (s Slack) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(struct {
		Text string `json:"text"`
	}{slackEscape.Replace(m.Text)})
	if err != nil {
		return err
	}
	return post(ctx, s.Client, s.URL, nil, body)
}

// Limit returns SlackLimit.
func (s Slack) Limit() int { return SlackLimit }

func (s Slack) check() error { return checkURL("slack.url", s.URL) }

var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Webhook posts messages as JSON to any URL:
//
//	{"kind": "failed", "title": "Job reports failed", "text": "…",
//	 "job_id": "reports", "run_id": "01HV…", "node": "web-1", "attempt": 1,
//	 "scheduled": "2024-01-01T09:00:00Z", "time": "2024-01-01T09:00:01Z",
//	 "duration": "1.5s", "duration_seconds": 1.5, "detail": "…",
//	 "error": "…", "stack": "…",
//	 "suppressed": {"failed": 36}, "suppressed_since": "2024-01-01T08:59:02Z"}
//
// Fields that do not apply are left out; error and stack are cut as text
// is.
type Webhook struct {
	URL string
	// Headers are added to each request, such as an Authorization.
	Headers map[string]string
	// MaxBytes is the Limit of the text; zero means DefaultWebhookLimit.
	MaxBytes int
	Client   *http.Client // nil means http.DefaultClient
}

// Send posts m as JSON. It fails with an *HTTPError when the server
// answers other than 2xx.
func (w Webhook) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(newPayload(m))
	if err != nil {
		return err
	}
	return post(ctx, w.Client, w.URL, w.Headers, body)
}

// Limit returns MaxBytes, or DefaultWebhookLimit when it is zero.
func (w Webhook) Limit() int {
	if w.MaxBytes == 0 {
		return DefaultWebhookLimit
	}
	return w.MaxBytes
}

func (w Webhook) check() error {
	if err := checkURL("webhook.url", w.URL); err != nil {
		return err
	}
	if w.MaxBytes < 0 || (w.MaxBytes > 0 && w.MaxBytes < minLimit) {
		return configErr("webhook.max_bytes", "%d is below %d", w.MaxBytes, minLimit)
	}
	for k, v := range w.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
			return configErr("webhook.headers", "%q is not a valid header", k)
		}
	}
	return nil
}

type payload struct {
	Kind            Kind         `json:"kind"`
	Title           string       `json:"title"`
	Text            string       `json:"text"`
	JobID           string       `json:"job_id,omitempty"`
	RunID           string       `json:"run_id,omitempty"`
	Node            string       `json:"node,omitempty"`
	Attempt         int          `json:"attempt,omitempty"`
	Scheduled       time.Time    `json:"scheduled,omitzero"`
	Time            time.Time    `json:"time"`
	Duration        string       `json:"duration,omitempty"`
	DurationSeconds float64      `json:"duration_seconds,omitempty"`
	Detail          string       `json:"detail,omitempty"`
	Err             string       `json:"error,omitempty"`
	Stack           string       `json:"stack,omitempty"`
	Suppressed      map[Kind]int `json:"suppressed,omitempty"`
	Since           time.Time    `json:"suppressed_since,omitzero"`
}

func newPayload(m Message) payload {
	p := payload{Kind: m.Kind, Title: m.Title, Text: m.Text, JobID: m.JobID, RunID: m.RunID, Node: m.Node,
		Attempt: m.Attempt, Scheduled: m.Scheduled, Time: m.Time, Detail: m.Detail, Err: m.Err,
		Stack: m.Stack, Suppressed: m.Suppressed, Since: m.Since}
	if m.Duration > 0 {
		p.Duration, p.DurationSeconds = m.Duration.String(), m.Duration.Seconds()
	}
	return p
}

// HTTPError reports a destination's answer other than 2xx.
type HTTPError struct {
	Status     int           // the HTTP status code
	Body       string        // the start of the response body
	RetryAfter time.Duration // the Retry-After header, if any
}

// Error returns "alert: HTTP <status>: <body>".
func (e *HTTPError) Error() string {
	msg := "alert: HTTP " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Temporary reports whether trying again may succeed: 429 and 5xx.
func (e *HTTPError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// post sends body as JSON. Errors never include the URL, which for Slack
// is a secret.
func post(ctx context.Context, c *http.Client, u string, headers map[string]string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return redact(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sundial-alert")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return redact(err)
	}
	defer resp.Body.Close()
	start, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(string(start)),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
}

// redact drops the URL from a *url.Error, keeping its cause.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("alert: %s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// retryAfter reads a Retry-After header in seconds; dates are ignored.
func retryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

func checkURL(field, raw string) error {
	if raw == "" {
		return configErr(field, "missing")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return configErr(field, "not an http(s) URL")
	}
	return nil
}

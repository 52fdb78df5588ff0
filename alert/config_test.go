package alert

import (
	"errors"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func TestConfigErrors(t *testing.T) {
	slack := Slack{URL: "https://hooks.slack.com/services/T/B/x"}
	one := func(d Destination) []Destination { return []Destination{d} }
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "alert: destinations: none (add an alert.Slack or an alert.Webhook)"},
		{Config{Destinations: one(Slack{})}, "alert: slack.url: missing"},
		{Config{Destinations: one(Slack{URL: "ftp://example.com/x"})}, "alert: slack.url: not an http(s) URL"},
		{Config{Destinations: one(Slack{URL: "hooks.slack.com/services"})}, "alert: slack.url: not an http(s) URL"},
		{Config{Destinations: one(Webhook{})}, "alert: webhook.url: missing"},
		{Config{Destinations: one(Webhook{URL: "https://x.test", MaxBytes: 100})}, "alert: webhook.max_bytes: 100 is below 256"},
		{Config{Destinations: one(Webhook{URL: "https://x.test", Headers: map[string]string{"Bad Name": "v"}})},
			`alert: webhook.headers: "Bad Name" is not a valid header`},
		{Config{Destinations: []Destination{slack, Webhook{}}}, "alert: destinations[1].webhook.url: missing"},
		{Config{Destinations: []Destination{slack, nil}}, "alert: destinations[1]: nil"},
		{Config{Destinations: one(slack), Kinds: []Kind{KindFailed, "bored"}},
			`alert: kinds[1]: unknown kind "bored" (want one of [failed slow missed interrupted node_lost])`},
		{Config{Destinations: one(slack), SlowFactor: 0.5}, "alert: slow_factor: 0.5 is below 1"},
		{Config{Destinations: one(slack), SlowFactor: -2}, "alert: slow_factor: -2 is below 1"},
		{Config{Destinations: one(slack), SlowWindow: 3, SlowSamples: 4}, "alert: slow_samples: 4 exceeds slow_window 3"},
		{Config{Destinations: one(slack), SlowSamples: 21}, "alert: slow_samples: 21 exceeds the default slow_window 20"},
		{Config{Destinations: one(slack), SlowMin: -time.Second}, "alert: slow_min: -1s is negative"},
		{Config{Destinations: one(slack), Timeout: -time.Second}, "alert: timeout: -1s is negative"},
		{Config{Destinations: one(slack), QueueSize: -1}, "alert: queue_size: -1 is negative"},
		{Config{Destinations: one(slack), Retry: sundial.RetryPolicy{Attempts: -1}}, "alert: retry.attempts: -1 is negative"},
		{Config{Destinations: one(slack), Retry: sundial.RetryPolicy{Multiplier: 0.5}}, "alert: retry.multiplier: 0.5 is below 1"},
		{Config{Destinations: one(slack), Jobs: map[string]JobRules{"etl": {SlowFactor: 0.2}}},
			"alert: jobs[etl].slow_factor: 0.2 is below 1"},
	}
	for _, tt := range tests {
		a, err := New(tt.cfg)
		if err == nil {
			t.Errorf("New(%+v) = nil error, want %q", tt.cfg, tt.want)
			continue
		}
		if a != nil {
			t.Errorf("New returned an Alerter with the error %v", err)
		}
		if err.Error() != tt.want {
			t.Errorf("New: %q, want %q", err, tt.want)
		}
		var ce *ConfigError
		if !errors.Is(err, sundial.ErrInvalid) || !errors.As(err, &ce) {
			t.Errorf("%v does not match sundial.ErrInvalid and *ConfigError", err)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Destinations: []Destination{Slack{URL: "https://x.test/hook"}}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimit != time.Minute || c.Grace != time.Minute || c.PollInterval != time.Minute ||
		c.Timeout != 10*time.Second || c.Retry.Attempts != 4 || c.SlowWindow != 20 || c.SlowSamples != 5 ||
		c.SlowMin != time.Second || c.QueueSize != 1000 || c.SlowFactor != 0 || c.Clock == nil || c.Logger == nil {
		t.Errorf("defaults %+v", c)
	}
	c, _ = Config{Destinations: c.Destinations, SlowWindow: 3}.withDefaults()
	if c.SlowSamples != 3 {
		t.Errorf("SlowSamples %d with a window of 3, want 3", c.SlowSamples)
	}
}

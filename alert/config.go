package alert

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sundialhq/sundial"
)

// Config configures an Alerter. Only Destinations is required; New
// validates the rest and fills in the defaults documented on each field.
type Config struct {
	// Destinations receive every message. At least one is required.
	Destinations []Destination
	// Clock times slow runs, missed fires and the rate limit. Pass the
	// scheduler's (sundial.Config.Clock) so both agree; nil means
	// sundial.SystemClock. HTTP timeouts and retry backoff run in real
	// time whatever the clock.
	Clock sundial.Clock
	// Logger receives what could not be delivered. Nil discards it.
	Logger *slog.Logger
	// Kinds are the kinds of alerts to send; nil means all of them.
	Kinds []Kind

	// RateLimit is the least time between two messages about one job (or
	// one lost node). Alerts in between are counted, and the latest is
	// sent when the interval ends with the count of the others. Zero means
	// 1 minute; negative means no limit.
	RateLimit time.Duration

	// SlowFactor turns on slow alerts relative to a job's recent runs: a
	// run is slow once it has run longer than SlowFactor times the p95 of
	// the job's last SlowWindow durations (and at least SlowMin), and is
	// reported while it still runs. Zero means off; otherwise it must be
	// at least 1. Absolute thresholds need no setting here: they are
	// Job.SlowAfter and sundial.Config.SlowAfter, reported by the
	// scheduler's EventRunSlow.
	SlowFactor float64
	// SlowWindow is how many recent durations are kept per job. Zero
	// means 20.
	SlowWindow int
	// SlowSamples is how many durations a job needs before relative
	// slowness applies. Zero means 5; it must not exceed SlowWindow.
	SlowSamples int
	// SlowMin is the least relative threshold, so jobs that take
	// milliseconds do not alert on noise. Zero means 1s.
	SlowMin time.Duration

	// Grace is how long after its time (scheduled time plus jitter) an
	// expected fire may go without starting before it is reported missed:
	// the dead-man's switch. Zero means 1 minute; a job's own
	// MisfireGrace applies where longer. Negative turns the switch off
	// (EventJobMissed is reported all the same). Keep it at least the
	// scheduler's MisfireGrace, which the alerter cannot read.
	Grace time.Duration
	// PollInterval is how often an attached scheduler's job list is read
	// for the next fires to expect, so a fire is missed even when no
	// scheduler is running to create its run. Zero means 1 minute;
	// negative means never.
	PollInterval time.Duration

	// Timeout bounds each HTTP request (and each store query of the
	// dead-man's switch). Zero means 10s.
	Timeout time.Duration
	// Retry retries a delivery that failed with a 5xx or 429 status, a
	// timeout or a network error, with exponential backoff (a 429's
	// Retry-After is honoured up to MaxBackoff). Zero Attempts means 4,
	// zero Backoff 500ms, zero MaxBackoff 30s.
	Retry sundial.RetryPolicy
	// QueueSize bounds the messages waiting for each destination; further
	// ones are dropped and logged. Zero means 1,000.
	QueueSize int

	// Jobs overrides the rules for single jobs, by job ID.
	Jobs map[string]JobRules
}

// JobRules override the Config for one job. Zero fields mean the Config's
// value.
type JobRules struct {
	// Mute sends nothing about the job.
	Mute bool
	// SlowFactor overrides Config.SlowFactor; negative turns relative
	// slowness off for the job.
	SlowFactor float64
	// Grace overrides Config.Grace; negative turns the dead-man's switch
	// off for the job.
	Grace time.Duration
	// RateLimit overrides Config.RateLimit; negative means no limit.
	RateLimit time.Duration
}

// ConfigError reports a bad Config field. It matches sundial.ErrInvalid
// with errors.Is.
type ConfigError struct {
	Field   string // dotted path, such as "slack.url" or "jobs[reports].slow_factor"
	Problem string
}

// Error returns "alert: <field>: <problem>".
func (e *ConfigError) Error() string { return "alert: " + e.Field + ": " + e.Problem }

// Unwrap returns sundial.ErrInvalid.
func (e *ConfigError) Unwrap() error { return sundial.ErrInvalid }

func configErr(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// checker is implemented by the destinations of this package, so New
// can name a bad field.
type checker interface{ check() error }

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if err := c.check(); err != nil {
		return c, err
	}
	if c.Clock == nil {
		c.Clock = sundial.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	setDuration(&c.RateLimit, time.Minute)
	setDuration(&c.SlowMin, time.Second)
	setDuration(&c.Grace, time.Minute)
	setDuration(&c.PollInterval, time.Minute)
	setDuration(&c.Timeout, 10*time.Second)
	setDuration(&c.Retry.Backoff, 500*time.Millisecond)
	setDuration(&c.Retry.MaxBackoff, 30*time.Second)
	setInt(&c.Retry.Attempts, 4)
	setInt(&c.SlowWindow, 20)
	setInt(&c.SlowSamples, min(5, c.SlowWindow))
	setInt(&c.QueueSize, 1000)
	return c, nil
}

func (c Config) check() error {
	if err := c.checkDestinations(); err != nil {
		return err
	}
	if err := checkKinds(c.Kinds); err != nil {
		return err
	}
	if err := c.checkNumbers(); err != nil {
		return err
	}
	for id, r := range c.Jobs {
		if r.SlowFactor > 0 && r.SlowFactor < 1 {
			return configErr("jobs["+id+"].slow_factor", "%v is below 1", r.SlowFactor)
		}
	}
	return nil
}

func (c Config) checkDestinations() error {
	if len(c.Destinations) == 0 {
		return configErr("destinations", "none (add an alert.Slack or an alert.Webhook)")
	}
	for i, d := range c.Destinations {
		prefix := ""
		if len(c.Destinations) > 1 {
			prefix = fmt.Sprintf("destinations[%d].", i)
		}
		if d == nil {
			return configErr(strings.TrimSuffix(prefix, "."), "nil")
		}
		if ch, ok := d.(checker); ok {
			if err := ch.check(); err != nil {
				if ce, ok := err.(*ConfigError); ok {
					return &ConfigError{Field: prefix + ce.Field, Problem: ce.Problem}
				}
				return err
			}
		}
		if d.Limit() < minLimit {
			return configErr(prefix+"limit", "%d is below %d bytes", d.Limit(), minLimit)
		}
	}
	return nil
}

func checkKinds(kinds []Kind) error {
	for i, k := range kinds {
		if !k.valid() {
			return configErr(fmt.Sprintf("kinds[%d]", i), "unknown kind %q (want one of %v)", k, allKinds)
		}
	}
	return nil
}

func (c Config) checkNumbers() error {
	switch {
	case c.SlowFactor < 0 || (c.SlowFactor > 0 && c.SlowFactor < 1):
		return configErr("slow_factor", "%v is below 1", c.SlowFactor)
	case c.SlowWindow < 0:
		return configErr("slow_window", "%d is negative", c.SlowWindow)
	case c.SlowSamples < 0:
		return configErr("slow_samples", "%d is negative", c.SlowSamples)
	case c.SlowWindow > 0 && c.SlowSamples > c.SlowWindow:
		return configErr("slow_samples", "%d exceeds slow_window %d", c.SlowSamples, c.SlowWindow)
	case c.SlowWindow == 0 && c.SlowSamples > 20:
		return configErr("slow_samples", "%d exceeds the default slow_window 20", c.SlowSamples)
	case c.SlowMin < 0:
		return configErr("slow_min", "%v is negative", c.SlowMin)
	case c.Timeout < 0:
		return configErr("timeout", "%v is negative", c.Timeout)
	case c.QueueSize < 0:
		return configErr("queue_size", "%d is negative", c.QueueSize)
	}
	var fe *sundial.FieldError
	if err := c.Retry.Validate(); errors.As(err, &fe) {
		return configErr(fe.Field, "%s", fe.Problem)
	}
	return nil
}

func setDuration(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

func setInt(n *int, v int) {
	if *n == 0 {
		*n = v
	}
}

// rules returns the job's overrides merged over the config.
func (c *Config) rules(jobID string) JobRules {
	r := c.Jobs[jobID]
	if r.SlowFactor == 0 {
		r.SlowFactor = c.SlowFactor
	}
	if r.Grace == 0 {
		r.Grace = c.Grace
	}
	if r.RateLimit == 0 {
		r.RateLimit = c.RateLimit
	}
	return r
}

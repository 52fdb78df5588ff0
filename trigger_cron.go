package sundial

import (
	"encoding/json"
	"time"

	"github.com/sundialhq/sundial/cron"
)

// CronOptions tune a [CronTrigger]. The zero value reads the expression in
// UTC with the default daylight-saving and day rules of package cron.
type CronOptions struct {
	TimeZone string             // IANA zone the expression is read in; "" means UTC
	Gap      cron.GapPolicy     // fixed-time fires skipped by a spring-forward gap
	Overlap  cron.OverlapPolicy // fixed-time fires in a fall-back overlap
	DayRule  cron.DayRule       // day-of-month and day-of-week: either (or) or both (and)
	Jitter   time.Duration      // upper bound of a random delay per fire
}

// CronTrigger fires on the instants a cron expression names in a time zone.
// See package cron for the dialect and the daylight-saving rules.
type CronTrigger struct {
	sched  *cron.Schedule
	zone   string
	jitter time.Duration
}

// Cron returns a trigger for the cron expression expr. opts may be nil. It
// fails with a *FieldError when the expression does not parse (Field "expr",
// wrapping the *cron.ParseError), the time zone is unknown ("timezone") or
// the jitter is negative ("jitter").
func Cron(expr string, opts *CronOptions) (*CronTrigger, error) {
	if opts == nil {
		opts = &CronOptions{}
	}
	loc, err := loadZone("timezone", opts.TimeZone)
	if err != nil {
		return nil, err
	}
	if err := checkJitter(opts.Jitter); err != nil {
		return nil, err
	}
	sched, err := cron.Parse(expr, &cron.Options{
		Location: loc, Gap: opts.Gap, Overlap: opts.Overlap, DayRule: opts.DayRule,
	})
	if err != nil {
		return nil, &FieldError{Field: "expr", Problem: err.Error(), Err: err}
	}
	return &CronTrigger{sched: sched, zone: zoneName(loc), jitter: opts.Jitter}, nil
}

// MustCron is like Cron but panics on error. It is meant for expressions
// written in the program's source.
func MustCron(expr string, opts *CronOptions) *CronTrigger {
	t, err := Cron(expr, opts)
	if err != nil {
		panic(err)
	}
	return t
}

// Kind returns "cron".
func (t *CronTrigger) Kind() string { return "cron" }

// Next returns the first fire strictly after after, in the trigger's zone,
// or the zero Time when the expression has no later fire.
func (t *CronTrigger) Next(after time.Time) (time.Time, error) {
	return t.sched.Next(after), nil
}

// Jitter returns the upper bound of the random delay per fire.
func (t *CronTrigger) Jitter() time.Duration { return t.jitter }

// Schedule returns the parsed expression, for Prev and Explain.
func (t *CronTrigger) Schedule() *cron.Schedule { return t.sched }

// String returns the expression, and the zone when it is not UTC.
func (t *CronTrigger) String() string {
	if t.zone == "" {
		return "cron " + t.sched.String()
	}
	return "cron " + t.sched.String() + " (" + t.zone + ")"
}

type cronJSON struct {
	Kind     string `json:"kind"`
	Expr     string `json:"expr"`
	TimeZone string `json:"timezone,omitempty"`
	Gap      string `json:"gap,omitempty"`
	Overlap  string `json:"overlap,omitempty"`
	DayRule  string `json:"day_rule,omitempty"`
	Jitter   string `json:"jitter,omitempty"`
}

// MarshalJSON writes {"kind":"cron","expr":...}; default policies are left out.
func (t *CronTrigger) MarshalJSON() ([]byte, error) {
	o := t.sched.Options()
	w := cronJSON{Kind: "cron", Expr: t.sched.String(), TimeZone: t.zone, Jitter: formatDuration(t.jitter)}
	if o.Gap != cron.GapShift {
		w.Gap = o.Gap.String()
	}
	if o.Overlap != cron.OverlapFirst {
		w.Overlap = o.Overlap.String()
	}
	if o.DayRule != cron.DayOr {
		w.DayRule = o.DayRule.String()
	}
	return json.Marshal(w)
}

func decodeCron(data []byte) (Trigger, error) {
	var w cronJSON
	if err := strictUnmarshal(data, &w); err != nil {
		return nil, err
	}
	opts := CronOptions{TimeZone: w.TimeZone}
	var err error
	if w.Gap != "" {
		if opts.Gap, err = cron.ParseGapPolicy(w.Gap); err != nil {
			return nil, &FieldError{Field: "gap", Problem: err.Error(), Err: err}
		}
	}
	if w.Overlap != "" {
		if opts.Overlap, err = cron.ParseOverlapPolicy(w.Overlap); err != nil {
			return nil, &FieldError{Field: "overlap", Problem: err.Error(), Err: err}
		}
	}
	if w.DayRule != "" {
		if opts.DayRule, err = cron.ParseDayRule(w.DayRule); err != nil {
			return nil, &FieldError{Field: "day_rule", Problem: err.Error(), Err: err}
		}
	}
	if opts.Jitter, err = parseDuration("jitter", w.Jitter); err != nil {
		return nil, err
	}
	return Cron(w.Expr, &opts)
}

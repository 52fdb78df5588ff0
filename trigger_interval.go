package sundial

import (
	"encoding/json"
	"time"
)

// IntervalOptions tune an [IntervalTrigger]. The zero value fires forever,
// anchored at the Unix epoch, with no jitter.
type IntervalOptions struct {
	// Start is the first fire and the anchor of every later one: fires are
	// at Start, Start+d, Start+2d, ... in absolute time, so they never
	// drift. Zero means unanchored: the scheduler anchors the job when it is
	// added (first fire one interval later), and Next used directly anchors
	// at the Unix epoch.
	Start time.Time
	// End is the last instant a fire may have; zero means no end.
	End time.Time
	// Jitter is the upper bound of a random delay per fire.
	Jitter time.Duration
}

// IntervalTrigger fires every d of absolute time. A daylight-saving change
// does not move its fires in absolute time, only their wall-clock reading.
type IntervalTrigger struct {
	every      time.Duration
	start, end time.Time
	jitter     time.Duration
}

// Every returns a trigger that fires every d. opts may be nil. It fails with
// a *FieldError when d is not positive ("every"), End is before Start
// ("end") or the jitter is negative ("jitter").
func Every(d time.Duration, opts *IntervalOptions) (*IntervalTrigger, error) {
	if opts == nil {
		opts = &IntervalOptions{}
	}
	if d <= 0 {
		return nil, invalid("every", "%v is not positive", d)
	}
	if !opts.End.IsZero() && !opts.Start.IsZero() && opts.End.Before(opts.Start) {
		return nil, invalid("end", "%s is before start %s", formatTime(opts.End), formatTime(opts.Start))
	}
	if err := checkJitter(opts.Jitter); err != nil {
		return nil, err
	}
	return &IntervalTrigger{every: d, start: opts.Start.Round(0), end: opts.End.Round(0), jitter: opts.Jitter}, nil
}

// MustEvery is like Every but panics on error.
func MustEvery(d time.Duration, opts *IntervalOptions) *IntervalTrigger {
	t, err := Every(d, opts)
	if err != nil {
		panic(err)
	}
	return t
}

// Kind returns "interval".
func (t *IntervalTrigger) Kind() string { return "interval" }

// Interval returns the period.
func (t *IntervalTrigger) Interval() time.Duration { return t.every }

// Start returns the anchor, or the zero Time when unanchored.
func (t *IntervalTrigger) Start() time.Time { return t.start }

// End returns the last instant a fire may have, or the zero Time.
func (t *IntervalTrigger) End() time.Time { return t.end }

// Jitter returns the upper bound of the random delay per fire.
func (t *IntervalTrigger) Jitter() time.Duration { return t.jitter }

// Anchored returns a copy whose first fire is at start, unless t already
// has a start, in which case t itself is returned.
func (t *IntervalTrigger) Anchored(start time.Time) *IntervalTrigger {
	if !t.start.IsZero() {
		return t
	}
	c := *t
	c.start = start.Round(0)
	return &c
}

var unixEpoch = time.Unix(0, 0).UTC()

// Next returns Start when after is before it, and otherwise the first
// Start + k*d strictly after after; the zero Time once past End.
func (t *IntervalTrigger) Next(after time.Time) (time.Time, error) {
	anchor := t.start
	if anchor.IsZero() {
		anchor = unixEpoch
	}
	var next time.Time
	if after.Before(anchor) {
		next = anchor
	} else {
		next = stepAfter(anchor, after, t.every)
	}
	if !t.end.IsZero() && next.After(t.end) {
		return time.Time{}, nil
	}
	return next, nil
}

// stepAfter returns the first anchor + k*every strictly after after, for
// after at or past anchor. Spans longer than time.Duration can hold are
// crossed in large whole multiples of every.
func stepAfter(anchor, after time.Time, every time.Duration) time.Time {
	const maxSpan = time.Duration(1<<62 - 1)
	big := maxSpan / every * every
	for after.Sub(anchor) >= big {
		anchor = anchor.Add(big)
	}
	k := after.Sub(anchor)/every + 1
	return anchor.Add(k * every)
}

type intervalJSON struct {
	Kind     string `json:"kind"`
	Every    string `json:"every"`
	Start    string `json:"start,omitempty"`
	End      string `json:"end,omitempty"`
	TimeZone string `json:"timezone,omitempty"` // the zone of start, for the zone of the fires
	Jitter   string `json:"jitter,omitempty"`
}

// MarshalJSON writes {"kind":"interval","every":"1h",...}.
func (t *IntervalTrigger) MarshalJSON() ([]byte, error) {
	return json.Marshal(intervalJSON{
		Kind: "interval", Every: t.every.String(),
		Start: formatTime(t.start), End: formatTime(t.end), Jitter: formatDuration(t.jitter),
		TimeZone: zoneName(t.start.Location()),
	})
}

func decodeInterval(data []byte) (Trigger, error) {
	var w intervalJSON
	if err := strictUnmarshal(data, &w); err != nil {
		return nil, err
	}
	if w.Every == "" {
		return nil, invalid("every", "missing")
	}
	every, err := parseDuration("every", w.Every)
	if err != nil {
		return nil, err
	}
	var opts IntervalOptions
	if opts.Start, err = parseTime("start", w.Start); err != nil {
		return nil, err
	}
	if opts.Start, err = inZone("timezone", w.TimeZone, opts.Start); err != nil {
		return nil, err
	}
	if opts.End, err = parseTime("end", w.End); err != nil {
		return nil, err
	}
	if opts.Jitter, err = parseDuration("jitter", w.Jitter); err != nil {
		return nil, err
	}
	return Every(every, &opts)
}

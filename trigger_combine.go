package sundial

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// CombineOptions tune an [AndTrigger] or [OrTrigger].
type CombineOptions struct {
	// Threshold is how far apart the parts' fire times may be and still
	// count as one fire of an AndTrigger (the latest of them is used). Zero
	// means they must be equal. Ignored by OrTrigger.
	Threshold time.Duration
	// MaxIterations bounds an AndTrigger's search for a time all parts
	// agree on; past it, Next returns ErrSearchLimit. Zero means 10,000.
	MaxIterations int
	// Jitter is the upper bound of a random delay per fire.
	Jitter time.Duration
}

const defaultMaxIterations = 10000

// AndTrigger fires when all of its triggers fire (within Threshold), as
// APScheduler's AndTrigger. For example "0 0 13 * *" and "0 0 * * FRI"
// together fire at midnight on every Friday the 13th.
type AndTrigger struct{ combination }

// OrTrigger fires whenever any of its triggers fires; fires that coincide
// are one fire.
type OrTrigger struct{ combination }

type combination struct {
	parts []Trigger
	opts  CombineOptions
}

// And returns a trigger that fires when every trigger in parts fires. It
// fails with a *FieldError when parts has fewer than two triggers or a nil
// one ("triggers"), or an option is negative.
func And(parts []Trigger, opts *CombineOptions) (*AndTrigger, error) {
	c, err := newCombination(parts, opts)
	if err != nil {
		return nil, err
	}
	return &AndTrigger{c}, nil
}

// Or returns a trigger that fires whenever any trigger in parts fires. It
// fails like And.
func Or(parts []Trigger, opts *CombineOptions) (*OrTrigger, error) {
	c, err := newCombination(parts, opts)
	if err != nil {
		return nil, err
	}
	return &OrTrigger{c}, nil
}

func newCombination(parts []Trigger, opts *CombineOptions) (combination, error) {
	if opts == nil {
		opts = &CombineOptions{}
	}
	if len(parts) < 2 {
		return combination{}, invalid("triggers", "%d given, want at least 2", len(parts))
	}
	for i, p := range parts {
		if p == nil {
			return combination{}, invalid("triggers["+strconv.Itoa(i)+"]", "nil trigger")
		}
	}
	if opts.Threshold < 0 {
		return combination{}, invalid("threshold", "%v is negative", opts.Threshold)
	}
	if opts.MaxIterations < 0 {
		return combination{}, invalid("max_iterations", "%d is negative", opts.MaxIterations)
	}
	if err := checkJitter(opts.Jitter); err != nil {
		return combination{}, err
	}
	return combination{parts: append([]Trigger(nil), parts...), opts: *opts}, nil
}

// Triggers returns a copy of the combined triggers.
func (c *combination) Triggers() []Trigger { return append([]Trigger(nil), c.parts...) }

// Options returns the combination's options.
func (c *combination) Options() CombineOptions { return c.opts }

// Jitter returns the upper bound of the random delay per fire.
func (c *combination) Jitter() time.Duration { return c.opts.Jitter }

// Kind returns "and".
func (t *AndTrigger) Kind() string { return "and" }

// Kind returns "or".
func (t *OrTrigger) Kind() string { return "or" }

// Next returns the first instant after after at which every part fires
// (within Threshold; the latest part's time is the fire), the zero Time when
// some part will never fire again, or ErrSearchLimit after MaxIterations
// rounds without agreement.
func (t *AndTrigger) Next(after time.Time) (time.Time, error) {
	limit := t.opts.MaxIterations
	if limit == 0 {
		limit = defaultMaxIterations
	}
	from := after
	for range limit {
		lo, hi, err := t.bounds(from)
		if err != nil || hi.IsZero() {
			return time.Time{}, err
		}
		if hi.Sub(lo) <= t.opts.Threshold {
			return hi, nil
		}
		// No part can agree before hi less the threshold: search from there.
		// Each round moves from forward, since lo < hi-Threshold.
		from = hi.Add(-t.opts.Threshold - time.Nanosecond)
	}
	return time.Time{}, fmt.Errorf("%w: and: no common fire after %s in %d rounds",
		ErrSearchLimit, after.Format(time.RFC3339), limit)
}

// bounds returns the earliest and latest of the parts' next fires after
// from; hi is zero when some part has no next fire.
func (t *AndTrigger) bounds(from time.Time) (lo, hi time.Time, err error) {
	for i, p := range t.parts {
		n, err := p.Next(from)
		if err != nil || n.IsZero() {
			return time.Time{}, time.Time{}, err
		}
		if i == 0 || n.Before(lo) {
			lo = n
		}
		if n.After(hi) {
			hi = n
		}
	}
	return lo, hi, nil
}

// Next returns the earliest next fire of any part, or the zero Time when
// none will fire again.
func (t *OrTrigger) Next(after time.Time) (time.Time, error) {
	var best time.Time
	for _, p := range t.parts {
		n, err := p.Next(after)
		if err != nil {
			return time.Time{}, err
		}
		if !n.IsZero() && (best.IsZero() || n.Before(best)) {
			best = n
		}
	}
	return best, nil
}

type combinationJSON struct {
	Kind          string            `json:"kind"`
	Triggers      []json.RawMessage `json:"triggers"`
	Threshold     string            `json:"threshold,omitempty"`
	MaxIterations int               `json:"max_iterations,omitempty"`
	Jitter        string            `json:"jitter,omitempty"`
}

// MarshalJSON writes {"kind":"and","triggers":[...]}.
func (t *AndTrigger) MarshalJSON() ([]byte, error) { return t.marshal("and") }

// MarshalJSON writes {"kind":"or","triggers":[...]}.
func (t *OrTrigger) MarshalJSON() ([]byte, error) { return t.marshal("or") }

func (c *combination) marshal(kind string) ([]byte, error) {
	w := combinationJSON{
		Kind: kind, Threshold: formatDuration(c.opts.Threshold),
		MaxIterations: c.opts.MaxIterations, Jitter: formatDuration(c.opts.Jitter),
	}
	for _, p := range c.parts {
		b, err := p.MarshalJSON()
		if err != nil {
			return nil, err
		}
		w.Triggers = append(w.Triggers, b)
	}
	return json.Marshal(w)
}

func decodeCombination(kind string, data []byte, depth int) (Trigger, error) {
	var w combinationJSON
	if err := strictUnmarshal(data, &w); err != nil {
		return nil, err
	}
	parts := make([]Trigger, len(w.Triggers))
	for i, raw := range w.Triggers {
		p, err := decodeTrigger(raw, depth+1)
		if err != nil {
			return nil, PrefixField("triggers["+strconv.Itoa(i)+"]", err)
		}
		parts[i] = p
	}
	opts := CombineOptions{MaxIterations: w.MaxIterations}
	var err error
	if opts.Threshold, err = parseDuration("threshold", w.Threshold); err != nil {
		return nil, err
	}
	if opts.Jitter, err = parseDuration("jitter", w.Jitter); err != nil {
		return nil, err
	}
	if kind == "and" {
		return And(parts, &opts)
	}
	return Or(parts, &opts)
}

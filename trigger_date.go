package sundial

import (
	"encoding/json"
	"time"
)

// DateOptions tune a [DateTrigger].
type DateOptions struct {
	Jitter time.Duration // upper bound of a random delay for the fire
}

// DateTrigger fires once, at one instant.
type DateTrigger struct {
	at     time.Time
	jitter time.Duration
}

// At returns a trigger that fires once at t. opts may be nil. It fails with
// a *FieldError when t is the zero Time ("at") or the jitter is negative.
func At(t time.Time, opts *DateOptions) (*DateTrigger, error) {
	if opts == nil {
		opts = &DateOptions{}
	}
	if t.IsZero() {
		return nil, invalid("at", "missing (the zero time)")
	}
	if err := checkJitter(opts.Jitter); err != nil {
		return nil, err
	}
	return &DateTrigger{at: t.Round(0), jitter: opts.Jitter}, nil
}

// MustAt is like At but panics on error.
func MustAt(t time.Time, opts *DateOptions) *DateTrigger {
	d, err := At(t, opts)
	if err != nil {
		panic(err)
	}
	return d
}

// Kind returns "date".
func (t *DateTrigger) Kind() string { return "date" }

// At returns the instant of the fire.
func (t *DateTrigger) At() time.Time { return t.at }

// Jitter returns the upper bound of the random delay.
func (t *DateTrigger) Jitter() time.Duration { return t.jitter }

// Next returns the fire instant when after is before it, else the zero Time.
func (t *DateTrigger) Next(after time.Time) (time.Time, error) {
	if after.Before(t.at) {
		return t.at, nil
	}
	return time.Time{}, nil
}

type dateJSON struct {
	Kind     string `json:"kind"`
	At       string `json:"at"`
	TimeZone string `json:"timezone,omitempty"` // the zone of at
	Jitter   string `json:"jitter,omitempty"`
}

// MarshalJSON writes {"kind":"date","at":"2024-03-10T09:00:00+09:00"}.
func (t *DateTrigger) MarshalJSON() ([]byte, error) {
	return json.Marshal(dateJSON{Kind: "date", At: formatTime(t.at), TimeZone: zoneName(t.at.Location()),
		Jitter: formatDuration(t.jitter)})
}

func decodeDate(data []byte) (Trigger, error) {
	var w dateJSON
	if err := strictUnmarshal(data, &w); err != nil {
		return nil, err
	}
	at, err := parseTime("at", w.At)
	if err != nil {
		return nil, err
	}
	if at, err = inZone("timezone", w.TimeZone, at); err != nil {
		return nil, err
	}
	jitter, err := parseDuration("jitter", w.Jitter)
	if err != nil {
		return nil, err
	}
	return At(at, &DateOptions{Jitter: jitter})
}

package sundial

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// Trigger computes when a job fires. A trigger is immutable data: it holds no
// state between calls, and it serializes to JSON with [json.Marshal] and back
// with [UnmarshalTrigger] without loss.
//
// The implementations are [*CronTrigger], [*IntervalTrigger],
// [*DateTrigger], [*CalendarTrigger], [*AndTrigger] and [*OrTrigger].
type Trigger interface {
	// Kind names the trigger's JSON kind: "cron", "interval", "date",
	// "calendar", "and" or "or".
	Kind() string

	// Next returns the first fire time strictly after t. It returns the zero
	// Time and a nil error when the trigger will never fire again, and an
	// error (matching ErrSearchLimit) when a combination gave up searching.
	Next(t time.Time) (time.Time, error)

	// Jitter returns the upper bound of a random delay added to each fire;
	// zero means none.
	Jitter() time.Duration

	json.Marshaler
}

// UnmarshalTrigger decodes a trigger from its JSON form, as written by
// json.Marshal of any Trigger, and validates it. Unknown kinds, unknown
// fields and bad values are refused with a *FieldError whose Field is a path
// below "trigger" (for example "trigger.timezone").
func UnmarshalTrigger(data []byte) (Trigger, error) {
	t, err := decodeTrigger(data, 0)
	if err != nil {
		return nil, PrefixField("trigger", err)
	}
	return t, nil
}

// maxTriggerDepth bounds the nesting of and/or combinations, so hostile
// input cannot exhaust the stack.
const maxTriggerDepth = 16

func decodeTrigger(data []byte, depth int) (Trigger, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, &FieldError{Problem: "malformed JSON: " + err.Error(), Err: err}
	}
	switch head.Kind {
	case "cron":
		return decodeCron(data)
	case "interval":
		return decodeInterval(data)
	case "date":
		return decodeDate(data)
	case "calendar":
		return decodeCalendar(data)
	case "and", "or":
		if depth >= maxTriggerDepth {
			return nil, invalid("", "combinations nest deeper than %d levels", maxTriggerDepth)
		}
		return decodeCombination(head.Kind, data, depth)
	case "":
		return nil, invalid("kind", "missing")
	default:
		return nil, invalid("kind", "unknown trigger kind %q (want cron, interval, date, calendar, and or or)", head.Kind)
	}
}

// strictUnmarshal decodes data into v, refusing fields v does not have.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return fe // a field's own decoder already named it
		}
		return &FieldError{Problem: "malformed JSON: " + err.Error(), Err: err}
	}
	return nil
}

// formatDuration writes d for JSON; zero is omitted by the callers.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// parseDuration reads an optional non-negative duration field.
func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, invalid(field, "%q is not a duration (want Go syntax such as \"90s\" or \"1h30m\")", s)
	}
	if d < 0 {
		return 0, invalid(field, "%q is negative", s)
	}
	return d, nil
}

// checkJitter validates a jitter bound.
func checkJitter(d time.Duration) error {
	if d < 0 {
		return invalid("jitter", "%v is negative", d)
	}
	return nil
}

// parseTime reads an optional RFC 3339 instant.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid(field, "%q is not an RFC 3339 time (want e.g. \"2024-03-10T09:00:00Z\")", s)
	}
	return t, nil
}

// formatTime writes an optional instant for JSON.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

var zoneCache sync.Map // IANA name → *time.Location

// loadZone resolves an IANA time zone name; "" means UTC. Locations are
// cached, since time.LoadLocation reads the zone database every call.
func loadZone(field, name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if loc, ok := zoneCache.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, invalid(field, "unknown time zone %q", name)
	}
	zoneCache.Store(name, loc)
	return loc, nil
}

// zoneName is the name under which loc is stored: "" for UTC, for Local
// (which means something else on another machine) and for unnamed fixed
// offsets, which the RFC 3339 offset already carries.
func zoneName(loc *time.Location) string {
	if loc == nil || loc == time.UTC || loc == time.Local {
		return ""
	}
	return loc.String()
}

// inZone reads an optional zone name and moves t into it.
func inZone(field, name string, t time.Time) (time.Time, error) {
	if name == "" || t.IsZero() {
		return t, nil
	}
	loc, err := loadZone(field, name)
	if err != nil {
		return time.Time{}, err
	}
	return t.In(loc), nil
}

package sundial

import (
	"encoding/json"
	"time"
)

// jobJSON is a Job's wire form: snake_case names, durations as Go duration
// strings, the trigger in its own JSON form.
type jobJSON struct {
	ID           string            `json:"id"`
	Name         string            `json:"name,omitempty"`
	Task         string            `json:"task"`
	Args         json.RawMessage   `json:"args,omitempty"`
	Trigger      json.RawMessage   `json:"trigger"`
	Start        string            `json:"start,omitempty"`
	End          string            `json:"end,omitempty"`
	NextFire     string            `json:"next_fire,omitempty"`
	MisfireGrace string            `json:"misfire_grace,omitempty"`
	Coalesce     CoalescePolicy    `json:"coalesce"`
	MaxInstances int               `json:"max_instances,omitempty"`
	Overlap      OverlapPolicy     `json:"overlap"`
	Executor     string            `json:"executor,omitempty"`
	Jitter       string            `json:"jitter,omitempty"`
	Timeout      string            `json:"timeout,omitempty"`
	Retry        *retryJSON        `json:"retry,omitempty"`
	SlowAfter    string            `json:"slow_after,omitempty"`
	Paused       bool              `json:"paused,omitempty"`
	Tags         []string          `json:"tags,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Version      int64             `json:"version,omitempty"`
	Created      string            `json:"created,omitempty"`
	Updated      string            `json:"updated,omitempty"`
}

type retryJSON struct {
	Attempts   int     `json:"attempts"`
	Backoff    string  `json:"backoff,omitempty"`
	MaxBackoff string  `json:"max_backoff,omitempty"`
	Multiplier float64 `json:"multiplier,omitempty"`
}

// MarshalJSON writes the job with snake_case field names, durations as Go
// duration strings ("90s") and times in RFC 3339.
func (j *Job) MarshalJSON() ([]byte, error) {
	w := jobJSON{
		ID: j.ID, Name: j.Name, Task: j.Task, Args: j.Args,
		Start: formatTime(j.Start), End: formatTime(j.End), NextFire: formatTime(j.NextFire),
		MisfireGrace: formatDuration(j.MisfireGrace), Coalesce: j.Coalesce,
		MaxInstances: j.MaxInstances, Overlap: j.Overlap, Executor: j.Executor,
		Jitter: formatDuration(j.Jitter), Timeout: formatDuration(j.Timeout),
		SlowAfter: formatDuration(j.SlowAfter), Paused: j.Paused, Tags: j.Tags, Metadata: j.Metadata,
		Version: j.Version, Created: formatTime(j.Created), Updated: formatTime(j.Updated),
	}
	if j.Trigger != nil {
		t, err := j.Trigger.MarshalJSON()
		if err != nil {
			return nil, err
		}
		w.Trigger = t
	}
	if j.Retry != (RetryPolicy{}) {
		r := j.Retry
		w.Retry = &retryJSON{Attempts: r.Attempts, Backoff: formatDuration(r.Backoff),
			MaxBackoff: formatDuration(r.MaxBackoff), Multiplier: r.Multiplier}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads a job written by MarshalJSON and validates it: a bad
// field is refused with a *FieldError naming it (for example
// "trigger.timezone" or "retry.backoff"), and j is left unchanged.
func (j *Job) UnmarshalJSON(data []byte) error {
	var w jobJSON
	if err := strictUnmarshal(data, &w); err != nil {
		return err
	}
	out := Job{ID: w.ID, Name: w.Name, Task: w.Task, Args: w.Args, Coalesce: w.Coalesce,
		MaxInstances: w.MaxInstances, Overlap: w.Overlap, Executor: w.Executor,
		Paused: w.Paused, Tags: w.Tags, Metadata: w.Metadata, Version: w.Version}
	if len(w.Trigger) == 0 || string(w.Trigger) == "null" {
		return invalid("trigger", "missing")
	}
	trig, err := UnmarshalTrigger(w.Trigger)
	if err != nil {
		return err
	}
	out.Trigger = trig
	if err := w.readTimes(&out); err != nil {
		return err
	}
	if err := w.readDurations(&out); err != nil {
		return err
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*j = out
	return nil
}

func (w *jobJSON) readTimes(j *Job) error {
	for _, f := range []struct {
		name string
		s    string
		dst  *time.Time
	}{
		{"start", w.Start, &j.Start}, {"end", w.End, &j.End}, {"next_fire", w.NextFire, &j.NextFire},
		{"created", w.Created, &j.Created}, {"updated", w.Updated, &j.Updated},
	} {
		t, err := parseTime(f.name, f.s)
		if err != nil {
			return err
		}
		*f.dst = t
	}
	return nil
}

// durField is one duration field to decode.
type durField struct {
	name string
	s    string
	dst  *time.Duration
}

func (w *jobJSON) readDurations(j *Job) error {
	var err error
	if j.SlowAfter, err = parseSigned("slow_after", w.SlowAfter); err != nil {
		return err
	}
	fields := []durField{{"misfire_grace", w.MisfireGrace, &j.MisfireGrace}, {"jitter", w.Jitter, &j.Jitter}, {"timeout", w.Timeout, &j.Timeout}}
	if r := w.Retry; r != nil {
		j.Retry = RetryPolicy{Attempts: r.Attempts, Multiplier: r.Multiplier}
		fields = append(fields, durField{"retry.backoff", r.Backoff, &j.Retry.Backoff},
			durField{"retry.max_backoff", r.MaxBackoff, &j.Retry.MaxBackoff})
	}
	for _, f := range fields {
		if *f.dst, err = parseDuration(f.name, f.s); err != nil {
			return err
		}
	}
	return nil
}

func parseSigned(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, invalid(field, "%q is not a duration (want Go syntax such as \"90s\" or \"1h30m\")", s)
	}
	return d, nil
}

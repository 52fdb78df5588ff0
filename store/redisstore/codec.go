package redisstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/sundialhq/sundial"
)

// Times are stored two ways: as RFC 3339 text in UTC, to the nanosecond,
// where they are read back ("" for the zero Time), and as Unix
// microseconds where Redis orders or compares them (sorted-set scores are
// doubles, exact to 2^53: microseconds until the year 2255, nanoseconds
// not at all). An index is thus exact to the microsecond: a run due less
// than a microsecond after a horizon may be claimed with it.

// timeText is t as stored text.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseTime reads timeText's form.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// micros is t as a score.
func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// fromMicros reads a score.
func fromMicros(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, corrupt("score %q unreadable", s)
	}
	return time.UnixMicro(int64(f)).UTC(), nil
}

// fireKey is a run's exactly-once key within its job: scheduled time (to
// the nanosecond), attempt and whether it is manual.
func fireKey(r *sundial.Run) string {
	m := 0
	if r.Manual {
		m = 1
	}
	return fmt.Sprintf("%d.%09d:%d:%d", r.Scheduled.Unix(), r.Scheduled.Nanosecond(), r.Attempt, m)
}

// poolOf is the pool that runs a run: its executor, "" meaning "default".
func poolOf(executor string) string {
	if executor == "" {
		return "default"
	}
	return executor
}

// runArgs are the RUNF arguments that insert (lua/common.lua) takes for
// a new run: the indexes' fields, the run's JSON, and the fields that
// change later. It fails with a *sundial.FieldError for arguments that
// are not JSON.
func runArgs(r *sundial.Run) ([]any, error) {
	if len(r.Args) > 0 && !json.Valid(r.Args) {
		return nil, invalid("run.args", "not valid JSON")
	}
	spec, err := json.Marshal(r)
	if err != nil {
		return nil, invalid("run", "cannot encode: %v", err)
	}
	fence := ""
	if r.Fence != 0 {
		fence = strconv.FormatInt(r.Fence, 10)
	}
	return []any{r.ID, r.JobID, fireKey(r), poolOf(r.Executor), strconv.Itoa(int(r.State)),
		micros(r.Due), micros(r.Scheduled), micros(r.Finished), string(spec), r.Reason, r.Node,
		fence, timeText(r.Started), timeText(r.Finished), r.Error, r.Stack}, nil
}

// decodeRun reads a run from a rec (lua/common.lua): its JSON as
// inserted, then the fields that changed since.
func decodeRun(v any) (*sundial.Run, error) {
	f := list(v)
	if len(f) != 9 || f[0] == nil {
		return nil, corrupt("run record: unexpected reply %v", v)
	}
	var r sundial.Run
	if err := json.Unmarshal([]byte(str(f[0])), &r); err != nil {
		return nil, corrupt("run record unreadable: %v", err)
	}
	state, err1 := strconv.Atoi(str(f[1]))
	var fence int64
	var err2 error
	if v := str(f[4]); v != "" { // empty fields are not stored
		fence, err2 = strconv.ParseInt(v, 10, 64)
	}
	started, err3 := parseTime(str(f[5]))
	finished, err4 := parseTime(str(f[6]))
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return nil, corrupt("run %s: stored fields unreadable: %v", r.ID, err)
	}
	r.State, r.Reason, r.Node, r.Fence = sundial.RunState(state), str(f[2]), str(f[3]), fence
	r.Started, r.Finished, r.Error, r.Stack = started, finished, str(f[7]), str(f[8])
	return &r, nil
}

// decodeRuns reads a list of recs.
func decodeRuns(v any) ([]*sundial.Run, error) {
	l := list(v)
	out := make([]*sundial.Run, 0, len(l))
	for _, x := range l {
		r, err := decodeRun(x)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// jobArgs are putjob.lua's arguments after the expected version: the
// job's JSON (less NextFire, which commits change without rewriting it)
// and the fields that indexes and claims need.
func jobArgs(j *sundial.Job) ([]any, error) {
	c := *j
	c.NextFire = time.Time{}
	spec, err := c.MarshalJSON()
	if err != nil {
		return nil, invalid("trigger", "cannot encode: %v", err)
	}
	tags := j.Tags
	if tags == nil {
		tags = []string{}
	}
	tagJSON, _ := json.Marshal(tags)
	paused, next := "0", ""
	if j.Paused {
		paused = "1"
	}
	if !j.NextFire.IsZero() {
		next = micros(j.NextFire)
	}
	return []any{string(spec), timeText(j.NextFire), next, paused, j.Task,
		strconv.Itoa(j.Instances()), strconv.FormatInt(j.Version, 10), string(tagJSON)}, nil
}

// decodeJob reads a job from its stored JSON and next fire.
func decodeJob(spec, next string) (*sundial.Job, error) {
	var j sundial.Job
	if err := j.UnmarshalJSON([]byte(spec)); err != nil {
		// Stored data, not the caller's input: not an ErrInvalid.
		return nil, corrupt("stored job unreadable: %v", err)
	}
	t, err := parseTime(next)
	if err != nil {
		return nil, corrupt("job %s: next fire %q unreadable", j.ID, next)
	}
	j.NextFire = t
	return &j, nil
}

// decodeJobs reads getjobs.lua's pairs of spec and next fire.
func decodeJobs(v any) ([]*sundial.Job, error) {
	l := list(v)
	out := make([]*sundial.Job, 0, len(l)/2)
	for i := 0; i+1 < len(l); i += 2 {
		j, err := decodeJob(str(l[i]), str(l[i+1]))
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

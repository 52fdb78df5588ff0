package sundial

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Errors returned by sundial match one of these with
// errors.Is where the condition applies.
var (
	// ErrInvalid reports bad input: a malformed trigger, an unknown time
	// zone, an out-of-range option. The error is a *FieldError that says
	// which field and why.
	ErrInvalid = errors.New("sundial: invalid input")

	// ErrNotFound reports that a job or run does not exist.
	ErrNotFound = errors.New("sundial: not found")

	// ErrConflict reports that an object already exists or was changed
	// concurrently.
	ErrConflict = errors.New("sundial: conflict")

	// ErrSearchLimit reports that a combined trigger gave up looking for a
	// fire time that all its parts agree on.
	ErrSearchLimit = errors.New("sundial: trigger search limit reached")
)

// FieldError reports a bad value in one field of user input. Field is a
// dotted path such as "trigger.every" or "trigger.triggers[1].expr". It
// matches ErrInvalid with errors.Is, and also Err when Err is set.
type FieldError struct {
	Field   string // dotted path of the field
	Problem string // what is wrong, in words
	Err     error  // underlying cause, if any (for example a *cron.ParseError)
}

// Error returns "sundial: <field>: <problem>".
func (e *FieldError) Error() string {
	if e.Field == "" {
		return "sundial: " + e.Problem
	}
	return "sundial: " + e.Field + ": " + e.Problem
}

// Unwrap lets errors.Is match ErrInvalid and the underlying cause.
func (e *FieldError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalid, e.Err}
	}
	return []error{ErrInvalid}
}

// invalid builds a *FieldError with a formatted problem.
func invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// PrefixField returns err with its field path prefixed by prefix, so an
// error from a nested value names its place in the whole input:
// PrefixField("jobs[3]", err) turns a *FieldError on "task" into one on
// "jobs[3].task". Other errors come back as they are. Stores use it to
// name the bad job of a batch.
func PrefixField(prefix string, err error) error {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return err
	}
	out := *fe
	switch {
	case out.Field == "":
		out.Field = prefix
	case out.Field[0] == '[':
		out.Field = prefix + out.Field
	default:
		out.Field = prefix + "." + out.Field
	}
	return &out
}

// notFoundError and conflictError say what was not found or conflicted and
// match ErrNotFound and ErrConflict.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string { return "sundial: " + e.what + " not found" }
func (e *notFoundError) Unwrap() error { return ErrNotFound }

type conflictError struct{ what string }

func (e *conflictError) Error() string { return "sundial: conflict: " + e.what }
func (e *conflictError) Unwrap() error { return ErrConflict }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

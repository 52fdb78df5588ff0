package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sundialhq/sundial"
)

// ErrDataLost reports that the data under the Store's prefix was wiped
// since the Store opened it: the epoch key that New found or wrote is
// gone or was replaced (FLUSHDB, a restart without persistence, keys
// deleted by hand). The Store refuses to go on as if nothing happened:
// every call fails with it until the process opens a new Store and
// declares its jobs again.
var ErrDataLost = errors.New("redisstore: data lost: the prefix's epoch key is gone or changed")

// ErrRunVanished reports that a run a node held (it was running the run)
// has no record in Redis any more: the write that created or started it
// was lost, as with appendfsync everysec after a crash (see the package
// documentation). Errors that match it also match sundial.ErrNotFound.
var ErrRunVanished = errors.New("redisstore: run record vanished")

// storeError is an error of this package: a message that starts with
// "redisstore:" and matches its kinds with errors.Is.
type storeError struct {
	msg   string
	kinds []error
}

func (e *storeError) Error() string   { return e.msg }
func (e *storeError) Unwrap() []error { return e.kinds }

func notFound(format string, args ...any) error {
	return &storeError{msg: "redisstore: " + fmt.Sprintf(format, args...) + " not found", kinds: []error{sundial.ErrNotFound}}
}

func conflict(format string, args ...any) error {
	return &storeError{msg: "redisstore: conflict: " + fmt.Sprintf(format, args...), kinds: []error{sundial.ErrConflict}}
}

func vanished(id, node string) error {
	return &storeError{kinds: []error{ErrRunVanished, sundial.ErrNotFound},
		msg: fmt.Sprintf("redisstore: run %s not found: its record vanished while node %s held it (Redis lost writes; see the package documentation on persistence)", id, node)}
}

func invalid(field, format string, args ...any) error {
	return &sundial.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// corrupt reports stored data this build cannot read.
func corrupt(format string, args ...any) error {
	return &storeError{msg: "redisstore: " + fmt.Sprintf(format, args...)}
}

// dataLostMark starts the error a script returns when the epoch key is
// gone or changed.
const dataLostMark = "SUNDIAL_DATALOST"

// fail translates an error at the store's boundary: the store's own
// errors and the caller's context errors pass (the latter wrapped, so
// errors.Is matches), and a client error becomes text, so callers never
// see go-redis's types.
func fail(ctx context.Context, op string, err error) error {
	var own *storeError
	var field *sundial.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &own), errors.As(err, &field):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("redisstore: %s: %w", op, ctx.Err())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("redisstore: %s: %w", op, err)
	case strings.Contains(err.Error(), dataLostMark):
		return &storeError{msg: "redisstore: " + op + ": " + ErrDataLost.Error()[len("redisstore: "):], kinds: []error{ErrDataLost}}
	}
	return &storeError{msg: "redisstore: " + op + ": " + err.Error()}
}

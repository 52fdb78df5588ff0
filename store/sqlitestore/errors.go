package sqlitestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/sundialhq/sundial"
	"modernc.org/sqlite"
)

// ErrSchema reports that the database's schema is not the one this build
// of the store needs: it has none (a new file opened with
// Config.NoMigrate), an older one (run Migrate), or a newer one (written by
// a later release).
var ErrSchema = errors.New("sqlitestore: schema version mismatch")

// storeError is an error of this package: a message that starts with
// "sqlitestore:" and, when kind is set, matches it with errors.Is
// (sundial.ErrNotFound, sundial.ErrConflict, ErrSchema).
type storeError struct {
	msg  string
	kind error
}

func (e *storeError) Error() string { return e.msg }
func (e *storeError) Unwrap() error { return e.kind }

func notFound(format string, args ...any) error {
	return &storeError{msg: "sqlitestore: " + fmt.Sprintf(format, args...) + " not found", kind: sundial.ErrNotFound}
}

func conflict(format string, args ...any) error {
	return &storeError{msg: "sqlitestore: conflict: " + fmt.Sprintf(format, args...), kind: sundial.ErrConflict}
}

// invalid builds the *sundial.FieldError the memory store returns for the
// same input.
func invalid(field, format string, args ...any) error {
	return &sundial.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// fail translates an error at the store's boundary: the store's own errors
// and the caller's context errors pass (the latter wrapped, so errors.Is
// matches), and a driver's error becomes text, so callers never see the
// driver's types.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	var own *storeError
	var field *sundial.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &own), errors.As(err, &field):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("sqlitestore: %s: %w", op, ctx.Err())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	return &storeError{msg: "sqlitestore: " + op + ": " + err.Error()}
}

// sqliteBusy is SQLite's primary result code SQLITE_BUSY.
const sqliteBusy = 5

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqliteBusy
}

// checkJob makes the memory store's checks of a job to add or update.
func checkJob(ctx context.Context, job *sundial.Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return job.Validate()
}

package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sundialhq/sundial"
)

// ErrSchema reports that the database's schema is not the one this build
// of the store needs: it has none (a new schema opened with
// Config.NoMigrate), an older one (run Migrate), or a newer one (written
// by a later release).
var ErrSchema = errors.New("pgstore: schema version mismatch")

// storeError is an error of this package: a message that starts with
// "pgstore:" and, when kind is set, matches it with errors.Is
// (sundial.ErrNotFound, sundial.ErrConflict, sundial.ErrInvalid,
// ErrSchema).
type storeError struct {
	msg  string
	kind error
}

func (e *storeError) Error() string { return e.msg }
func (e *storeError) Unwrap() error { return e.kind }

func notFound(format string, args ...any) error {
	return &storeError{msg: "pgstore: " + fmt.Sprintf(format, args...) + " not found", kind: sundial.ErrNotFound}
}

func conflict(format string, args ...any) error {
	return &storeError{msg: "pgstore: conflict: " + fmt.Sprintf(format, args...), kind: sundial.ErrConflict}
}

// invalid builds the *sundial.FieldError the memory store returns for the
// same input.
func invalid(field, format string, args ...any) error {
	return &sundial.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// fail translates an error at the store's boundary, so callers never see
// pgx's types: the store's own errors pass; the caller's context errors
// are wrapped (errors.Is still matches them); a unique violation matches
// sundial.ErrConflict and data PostgreSQL refuses (a NUL byte in a name,
// say) sundial.ErrInvalid; anything else becomes text.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	var own *storeError
	var field *sundial.FieldError
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &own), errors.As(err, &field):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("pgstore: %s: %w", op, ctx.Err())
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("pgstore: %s: %w", op, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("pgstore: %s: %w", op, context.DeadlineExceeded)
	case errors.As(err, &pe) && pe.Code == "23505":
		return &storeError{msg: "pgstore: " + op + ": " + pe.Message, kind: sundial.ErrConflict}
	case errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22"):
		return &storeError{msg: "pgstore: " + op + ": invalid input: " + pe.Message, kind: sundial.ErrInvalid}
	case errors.As(err, &pe):
		return &storeError{msg: fmt.Sprintf("pgstore: %s: %s (SQLSTATE %s)", op, pe.Message, pe.Code)}
	}
	return &storeError{msg: "pgstore: " + op + ": " + err.Error()}
}

// checkJob makes the memory store's checks of a job to add or update, and
// the store's own: its next fire must fit the stored range.
func checkJob(ctx context.Context, job *sundial.Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := job.Validate(); err != nil {
		return err
	}
	return checkTime("next_fire", job.NextFire)
}

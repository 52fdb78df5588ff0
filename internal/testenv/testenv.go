// Package testenv gives tests the addresses of the real servers they need
// (PostgreSQL, Redis) from the environment. When a variable is unset, a
// developer's plain `go test` skips the test with a message saying how to
// run it; under CI (CI=true, as .ci/run sets) an unset variable fails the
// test instead, so CI never skips a case.
package testenv

import (
	"os"
	"testing"
)

// The variables tests read.
const (
	PostgresVar = "SUNDIAL_TEST_POSTGRES_URL"
	RedisVar    = "SUNDIAL_TEST_REDIS_URL"
)

// PostgresURL returns the PostgreSQL connection URL for tests, skipping
// (or, under CI, failing) t when none is set.
func PostgresURL(t testing.TB) string { return need(t, PostgresVar, "a PostgreSQL server") }

// RedisURL returns the Redis URL for tests, skipping (or, under CI,
// failing) t when none is set.
func RedisURL(t testing.TB) string { return need(t, RedisVar, "a Redis server") }

func need(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if InCI() {
		t.Fatalf("%s is not set: CI must run every test against %s (.ci/run sets it)", name, what)
		return ""
	}
	t.Skipf("%s is not set; set it (or run `make services` and .ci/run) to run this test against %s", name, what)
	return ""
}

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

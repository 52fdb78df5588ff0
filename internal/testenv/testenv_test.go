package testenv

import (
	"testing"
)

// fakeTB records how need ended without ending the real test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = true
	f.msg = format
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = format
}

func TestNeed(t *testing.T) {
	t.Setenv("SUNDIAL_TEST_X", "")
	t.Setenv("CI", "")
	f := &fakeTB{}
	need(f, "SUNDIAL_TEST_X", "x")
	if !f.skipped || f.failed {
		t.Errorf("unset outside CI: skipped=%v failed=%v, want a skip", f.skipped, f.failed)
	}

	t.Setenv("CI", "true")
	f = &fakeTB{}
	need(f, "SUNDIAL_TEST_X", "x")
	if !f.failed || f.skipped {
		t.Errorf("unset under CI: skipped=%v failed=%v, want a failure", f.skipped, f.failed)
	}

	t.Setenv("SUNDIAL_TEST_X", "postgres://h/db")
	f = &fakeTB{}
	if got := need(f, "SUNDIAL_TEST_X", "x"); got != "postgres://h/db" || f.skipped || f.failed {
		t.Errorf("set: got %q skipped=%v failed=%v", got, f.skipped, f.failed)
	}
}

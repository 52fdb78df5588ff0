package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// pending returns a first-attempt pending run of a fire of job.
func pending(job string, at time.Time, executor string) *sundial.Run {
	return &sundial.Run{ID: sundial.NewRunID(at), JobID: job, Task: "noop", Scheduled: at, Due: at,
		Attempt: 1, State: sundial.RunPending, Executor: executor}
}

func addJob(t *testing.T, s sundial.Store, id string, maxInstances int) {
	t.Helper()
	j := &sundial.Job{ID: id, Task: "noop", MaxInstances: maxInstances, Trigger: sundial.MustEvery(time.Minute, nil)}
	if _, err := s.AddJob(context.Background(), j, sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
}

// TestClaimRunsPastBlockedRuns checks that runs waiting for a slot, many
// pages of them, do not hide a later run that can start.
func TestClaimRunsPastBlockedRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addJob(t, s, "busy", 1)
	addJob(t, s, "free", 1)
	var runs []*sundial.Run
	for i := range 2000 {
		runs = append(runs, pending("busy", base.Add(time.Duration(i-3000)*time.Second), ""))
	}
	if _, err := s.AddRuns(ctx, append(runs, pending("free", base, ""))); err != nil {
		t.Fatal(err)
	}
	claim := sundial.RunClaim{Node: "n", Now: base, Horizon: base, Limit: map[string]int{"default": 10}}
	got, err := s.ClaimRuns(ctx, claim)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].JobID != "busy" || !got[0].Due.Equal(runs[0].Due) || got[1].JobID != "free" {
		t.Fatalf("ClaimRuns = %v; want busy's oldest run, then free's", describe(got))
	}
	if got, err := s.ClaimRuns(ctx, claim); err != nil || len(got) != 0 {
		t.Errorf("ClaimRuns with both jobs full = %v, %v; want none", describe(got), err)
	}
}

// TestClaimRunsPools checks that "" and "default" name the same pool,
// that other pools are separate, that ties of due go in insertion order,
// and that a removed job's runs still run, one at a time.
func TestClaimRunsPools(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addJob(t, s, "a", 5)
	addJob(t, s, "gone", 5)
	runs := []*sundial.Run{pending("a", base, ""), pending("a", base.Add(-time.Second), "default"),
		pending("a", base.Add(-2*time.Second), "slow"), pending("gone", base, ""), pending("gone", base.Add(-time.Second), "")}
	if _, err := s.AddRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveJob(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimRuns(ctx, sundial.RunClaim{Node: "n", Now: base, Horizon: base, Limit: map[string]int{"": 10}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "a@-1s gone@-1s a@0s"; describe(got) != want {
		t.Errorf("ClaimRuns of the default pool = %s, want %s", describe(got), want)
	}
	got, _ = s.ClaimRuns(ctx, sundial.RunClaim{Node: "n", Now: base, Horizon: base, Limit: map[string]int{"slow": 10}})
	if want := "a@-2s"; describe(got) != want {
		t.Errorf("ClaimRuns of pool slow = %s, want %s", describe(got), want)
	}
}

// describe lists runs as job@offset from base, in order.
func describe(runs []*sundial.Run) string {
	out := ""
	for i, r := range runs {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%s@%s", r.JobID, r.Due.Sub(base))
	}
	return out
}

// Package storetest is the conformance suite every sundial.Store passes:
// the memory store, and the SQLite, PostgreSQL and Redis stores. Call Run
// from a store's tests with a constructor that returns a fresh, empty store.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) sundial.Store { return open(t) })
//	}
//
// Time is passed to the store explicitly from a fixed base, so no test
// sleeps; stores that measure leases on their own clock document how they
// run the suite.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// NewStore returns a fresh, empty store for one test.
type NewStore func(t *testing.T) sundial.Store

// base is the suite's "now" before tests move it.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// Run runs the whole suite, grouped by area.
func Run(t *testing.T, newStore NewStore) {
	t.Run("Jobs", func(t *testing.T) { testJobs(t, newStore) })
	t.Run("BadInput", func(t *testing.T) { testBadInput(t, newStore) })
	t.Run("Claims", func(t *testing.T) { testClaims(t, newStore) })
	t.Run("Runs", func(t *testing.T) { testRuns(t, newStore) })
	t.Run("Recovery", func(t *testing.T) { testRecovery(t, newStore) })
	t.Run("PeerExpiry", func(t *testing.T) { testPeerExpiry(t, newStore) })
	t.Run("Unconfirmed", func(t *testing.T) { testUnconfirmed(t, newStore) })
	t.Run("History", func(t *testing.T) { testHistory(t, newStore) })
	t.Run("Notices", func(t *testing.T) { testNotices(t, newStore) })
	t.Run("ExactlyOnce", func(t *testing.T) { testExactlyOnce(t, newStore) })
	t.Run("MaxInstancesRace", func(t *testing.T) { testMaxInstancesRace(t, newStore) })
}

// job returns a valid interval job firing at next.
func job(id string, next time.Time) *sundial.Job {
	return &sundial.Job{ID: id, Task: "noop", Trigger: sundial.MustEvery(time.Minute, &sundial.IntervalOptions{Start: base}), NextFire: next}
}

// pendingRun returns a first-attempt pending run of a fire.
func pendingRun(jobID string, scheduled time.Time) *sundial.Run {
	return &sundial.Run{ID: sundial.NewRunID(scheduled), JobID: jobID, Task: "noop", Scheduled: scheduled,
		Due: scheduled, Attempt: 1, State: sundial.RunPending, Created: scheduled}
}

func mustAdd(t *testing.T, s sundial.Store, j *sundial.Job) *sundial.Job {
	t.Helper()
	out, err := s.AddJob(context.Background(), j, sundial.ConflictError, base)
	if err != nil {
		t.Fatalf("AddJob(%s): %v", j.ID, err)
	}
	return out
}

// claimOne claims due jobs at now and fails unless exactly the given IDs
// come back, in that order.
func claim(t *testing.T, s sundial.Store, node string, now time.Time, limit int) []sundial.DueJob {
	t.Helper()
	due, err := s.ClaimDueJobs(context.Background(), sundial.JobClaim{Node: node, Now: now, Horizon: now, Lease: 30 * time.Second, Limit: limit})
	if err != nil {
		t.Fatalf("ClaimDueJobs: %v", err)
	}
	return due
}

func ids(due []sundial.DueJob) []string {
	out := make([]string, len(due))
	for i, d := range due {
		out[i] = d.Job.ID
	}
	return out
}

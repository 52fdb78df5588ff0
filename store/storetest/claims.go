package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func testClaims(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	t.Run("DueOnlyInOrderWithLimit", func(t *testing.T) {
		s := newStore(t)
		for i, id := range []string{"c", "a", "b", "later"} {
			mustAdd(t, s, job(id, base.Add(time.Duration(i)*time.Second)))
		}
		paused := job("paused", base)
		paused.Paused = true
		mustAdd(t, s, paused)
		if next, _ := s.NextFireTime(ctx); !next.Equal(base) {
			t.Errorf("NextFireTime = %s, want %s", next, base)
		}
		if got := ids(claim(t, s, "n1", base.Add(2*time.Second), 2)); !slices.Equal(got, []string{"c", "a"}) {
			t.Errorf("first claim = %v, want [c a] (earliest first, limit 2)", got)
		}
		if got := ids(claim(t, s, "n2", base.Add(2*time.Second), 10)); !slices.Equal(got, []string{"b"}) {
			t.Errorf("second claim = %v, want [b]: claimed jobs are not claimed twice, later ones not yet", got)
		}
	})
	t.Run("CommitAdvancesAndReleases", func(t *testing.T) {
		s := newStore(t)
		mustAdd(t, s, job("a", base))
		d := claim(t, s, "n1", base, 10)[0]
		res, err := s.CommitFires(ctx, []sundial.FireCommit{{JobID: "a", Token: d.Token,
			Runs: []*sundial.Run{pendingRun("a", base)}, NextFire: base.Add(time.Minute)}}, base)
		if err != nil || len(res) != 1 || res[0].Lost || len(res[0].Inserted) != 1 {
			t.Fatalf("CommitFires = %+v, %v", res, err)
		}
		if got, _ := s.GetJob(ctx, "a"); !got.NextFire.Equal(base.Add(time.Minute)) {
			t.Errorf("next fire = %s", got.NextFire)
		}
		if due := claim(t, s, "n2", base.Add(30*time.Second), 10); len(due) != 0 {
			t.Errorf("claimed before its next fire: %v", ids(due))
		}
		if due := claim(t, s, "n2", base.Add(time.Minute), 10); len(due) != 1 {
			t.Errorf("a committed job must be claimable at its next fire")
		}
	})
	t.Run("DuplicateFireDropped", func(t *testing.T) {
		s := newStore(t)
		mustAdd(t, s, job("a", base))
		d := claim(t, s, "n1", base, 10)[0]
		s.CommitFires(ctx, []sundial.FireCommit{{JobID: "a", Token: d.Token, Runs: []*sundial.Run{pendingRun("a", base)}, NextFire: base}}, base)
		d = claim(t, s, "n1", base, 10)[0]
		res, _ := s.CommitFires(ctx, []sundial.FireCommit{{JobID: "a", Token: d.Token, Runs: []*sundial.Run{pendingRun("a", base)}, NextFire: base.Add(time.Minute)}}, base)
		if len(res[0].Inserted) != 0 {
			t.Errorf("a second run for the same fire was inserted")
		}
		if added, _ := s.AddRuns(ctx, []*sundial.Run{pendingRun("a", base)}); len(added) != 0 {
			t.Errorf("AddRuns inserted a duplicate fire")
		}
		if runs, _ := s.ListRuns(ctx, sundial.RunFilter{JobID: "a"}); len(runs) != 1 {
			t.Errorf("%d runs for one fire, want 1", len(runs))
		}
	})
	t.Run("LeaseExpiryAndLostToken", func(t *testing.T) {
		s := newStore(t)
		mustAdd(t, s, job("a", base))
		stale := claim(t, s, "n1", base, 10)[0]
		if due := claim(t, s, "n2", base.Add(29*time.Second), 10); len(due) != 0 {
			t.Fatalf("claimed while the lease holds")
		}
		if next, _ := s.NextFireTime(ctx); !next.Equal(base.Add(30 * time.Second)) {
			t.Errorf("NextFireTime with only a claim = %s, want the lease expiry", next)
		}
		fresh := claim(t, s, "n2", base.Add(31*time.Second), 10)
		if len(fresh) != 1 || fresh[0].Token == stale.Token {
			t.Fatalf("after lease expiry: %+v", fresh)
		}
		res, _ := s.CommitFires(ctx, []sundial.FireCommit{{JobID: "a", Token: stale.Token,
			Runs: []*sundial.Run{pendingRun("a", base)}, NextFire: base.Add(time.Hour)}}, base)
		if !res[0].Lost {
			t.Errorf("a commit with a stale token was applied")
		}
		if runs, _ := s.ListRuns(ctx, sundial.RunFilter{JobID: "a"}); len(runs) != 0 {
			t.Errorf("a lost commit inserted runs")
		}
	})
	t.Run("LapsedClaimReported", func(t *testing.T) {
		s := newStore(t)
		mustAdd(t, s, job("a", base))
		if d := claim(t, s, "n1", base, 10); len(d) != 1 || !d[0].Lapsed.IsZero() {
			t.Fatalf("first claim = %+v, want a, not lapsed", d)
		}
		// n1 dies mid-round: its 30 s lease runs out uncommitted.
		d := claim(t, s, "n2", base.Add(31*time.Second), 10)
		if len(d) != 1 || !d[0].Lapsed.Equal(base.Add(30*time.Second)) {
			t.Fatalf("claim after the lease ran out = %+v, want a, lapsed at the lease's end %v", d, base.Add(30*time.Second))
		}
		if _, err := s.CommitFires(ctx, []sundial.FireCommit{{JobID: "a", Token: d[0].Token, NextFire: base.Add(time.Minute)}}, base.Add(31*time.Second)); err != nil {
			t.Fatal(err)
		}
		if d := claim(t, s, "n3", base.Add(time.Minute), 10); len(d) != 1 || !d[0].Lapsed.IsZero() {
			t.Errorf("claim after a commit = %+v, want a, not lapsed", d)
		}
	})
	t.Run("UpdateDuringClaimWins", func(t *testing.T) {
		s := newStore(t)
		mustAdd(t, s, job("a", base))
		d := claim(t, s, "n1", base, 10)[0]
		j, _ := s.GetJob(ctx, "a")
		j.Paused = true
		if _, err := s.UpdateJob(ctx, j, base); err != nil {
			t.Fatal(err)
		}
		res, _ := s.CommitFires(ctx, []sundial.FireCommit{{JobID: "a", Token: d.Token, NextFire: base.Add(time.Minute)}}, base)
		if !res[0].Lost {
			t.Errorf("a commit after the job changed was applied over the change")
		}
		if got, _ := s.GetJob(ctx, "a"); !got.Paused {
			t.Errorf("the update was lost")
		}
	})
	t.Run("PauseAndResume", func(t *testing.T) {
		s := newStore(t)
		j := mustAdd(t, s, job("a", base))
		j.Paused = true
		j, _ = s.UpdateJob(ctx, j, base)
		if due := claim(t, s, "n", base, 10); len(due) != 0 {
			t.Errorf("a paused job was claimed")
		}
		j.Paused = false
		s.UpdateJob(ctx, j, base)
		if due := claim(t, s, "n", base, 10); len(due) != 1 {
			t.Errorf("a resumed job was not claimed")
		}
	})
}

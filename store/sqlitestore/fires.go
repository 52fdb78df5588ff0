package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/sundialhq/sundial"
)

// NextFireTime returns the earliest next fire among unpaused, unclaimed
// jobs, or the earliest claim expiry if that comes first (a claim that
// expires makes its job due again); the zero Time when there is neither.
func (s *Store) NextFireTime(ctx context.Context) (time.Time, error) {
	var fire, lease time.Time
	err := s.row(ctx, nextFireSQL).Scan(timeScan{&fire}, timeScan{&lease})
	if err != nil {
		return time.Time{}, s.fail(ctx, "next fire time", err)
	}
	if fire.IsZero() || !lease.IsZero() && lease.Before(fire) {
		return lease, nil
	}
	return fire, nil
}

var nextFireSQL = hot(`SELECT
		(SELECT next_fire FROM jobs WHERE paused = 0 AND next_fire IS NOT NULL AND claim_token IS NULL
			ORDER BY next_fire LIMIT 1),
		(SELECT min(claim_until) FROM jobs WHERE claim_until IS NOT NULL)`)

// dueSQL selects the jobs to claim, through the jobs_due index.
const dueSQL = `SELECT id FROM jobs
	WHERE paused = 0 AND next_fire IS NOT NULL AND next_fire <= ? AND claim_token IS NULL
	ORDER BY next_fire, id LIMIT ?`

var (
	releaseExpiredSQL = hot(`UPDATE jobs SET lapsed = claim_until, claim_token = NULL, claim_node = NULL, claim_until = NULL
			WHERE claim_until IS NOT NULL AND claim_until <= ?`)
	anyDueJobSQL = hot(`SELECT
		EXISTS (SELECT 1 FROM jobs WHERE paused = 0 AND next_fire IS NOT NULL AND next_fire <= ? AND claim_token IS NULL)
		OR EXISTS (SELECT 1 FROM jobs WHERE claim_until IS NOT NULL AND claim_until <= ?)`)
	bumpSQL     = hot(`UPDATE counters SET value = value + ? WHERE name = ? RETURNING value`)
	claimJobSQL = hot(`UPDATE jobs SET claim_token = ?, claim_node = ?, claim_until = ?
		WHERE id IN (` + dueSQL + `) RETURNING ` + jobCols + `, lapsed`)
)

// ClaimDueJobs leases up to c.Limit (zero: 1,000) due jobs to c.Node
// until c.Now + c.Lease, the earliest next fire first, each with its
// running runs and its count of pending ones. The jobs of one call share a
// claim token that no other claim had. Claims that expired by c.Now are
// released first, so their jobs are due again. When nothing is due it
// takes no write lock.
func (s *Store) ClaimDueJobs(ctx context.Context, c sundial.JobClaim) ([]sundial.DueJob, error) {
	if c.Limit <= 0 {
		c.Limit = 1000
	}
	if work, err := s.anyDueJob(ctx, c); err != nil || !work {
		return nil, s.fail(ctx, "claim due jobs", err)
	}
	var out []sundial.DueJob
	err := s.write(ctx, "claim due jobs", func(tx *sql.Tx) error {
		st := s.stmts(ctx, tx)
		defer st.close()
		_, err := st.exec(releaseExpiredSQL, timeText(c.Now))
		if err != nil {
			return err
		}
		if out, err = claimJobs(&st, c); err != nil || len(out) == 0 {
			return err
		}
		return addActiveRuns(&st, out, c.Node)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// anyDueJob reports, without a write lock, whether a job is due or a
// claim has expired.
func (s *Store) anyDueJob(ctx context.Context, c sundial.JobClaim) (bool, error) {
	var work bool
	err := s.row(ctx, anyDueJobSQL, timeText(c.Horizon), timeText(c.Now)).Scan(&work)
	return work, err
}

// claimJobs claims the due jobs in one statement. They share a new token
// from the claim counter: it differs from every earlier claim's, which is
// all a commit's check needs.
func claimJobs(st *stmts, c sundial.JobClaim) ([]sundial.DueJob, error) {
	var token int64
	if err := st.row(bumpSQL, 1, "claim").Scan(&token); err != nil {
		return nil, err
	}
	rows, err := st.query(claimJobSQL, token, c.Node, timeText(c.Now.Add(c.Lease)), timeText(c.Horizon), c.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sundial.DueJob
	for rows.Next() {
		d := sundial.DueJob{Token: token}
		if d.Job, err = scanJob(withExtra{rows, []any{timeScan{&d.Lapsed}}}); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b sundial.DueJob) int {
		return cmp.Or(a.Job.NextFire.Compare(b.Job.NextFire), strings.Compare(a.Job.ID, b.Job.ID))
	})
	return out, rows.Err()
}

// CommitFires applies each commit: a commit whose token still holds its
// job's claim inserts its runs (those whose fire's key exists are
// dropped), requests the cancellations, sets the next fire and releases
// the claim; any other is reported Lost and changes nothing. The batch is
// one transaction; notices follow its commit.
func (s *Store) CommitFires(ctx context.Context, commits []sundial.FireCommit, now time.Time) ([]sundial.CommitResult, error) {
	out := make([]sundial.CommitResult, len(commits))
	if err := ctx.Err(); err != nil || len(commits) == 0 {
		return out, err
	}
	err := s.write(ctx, "commit fires", func(tx *sql.Tx) error {
		return s.inWriter(ctx, tx, func(w *txWriter) (err error) {
			for i, c := range commits {
				if out[i], err = w.commit(c, now); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	var notices []sundial.Notice
	for i, res := range out {
		if !res.Lost {
			notices = append(notices, sundial.Notice{Kind: sundial.NoticeJobsChanged, JobID: res.JobID, NextFire: commits[i].NextFire})
			if len(res.Inserted) > 0 {
				notices = append(notices, sundial.Notice{Kind: sundial.NoticeRunsCreated, JobID: res.JobID})
			}
		}
	}
	s.publish(notices...)
	return out, nil
}

// AddRuns inserts runs that no trigger produced; runs whose ID or fire's
// key exists are dropped. It returns the runs inserted, or a
// *sundial.FieldError (inserting nothing) when one of runs is invalid.
func (s *Store) AddRuns(ctx context.Context, runs []*sundial.Run) ([]*sundial.Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, r := range runs {
		if err := r.CheckNew(); err != nil {
			return nil, err
		}
	}
	if len(runs) == 0 {
		return nil, nil
	}
	var inserted []*sundial.Run
	err := s.write(ctx, "add runs", func(tx *sql.Tx) error {
		return s.inWriter(ctx, tx, func(w *txWriter) (err error) {
			inserted, err = w.insert(runs, time.Time{})
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	notices := make([]sundial.Notice, len(inserted))
	for i, r := range inserted {
		notices[i] = sundial.Notice{Kind: sundial.NoticeRunsCreated, JobID: r.JobID}
	}
	s.publish(notices...)
	return inserted, nil
}

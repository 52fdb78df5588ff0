package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sundialhq/sundial"
)

// clockNs is the server's clock in stored form. clock_timestamp() is the
// time now, not at the start of the transaction as now() is.
const clockNs = `(extract(epoch FROM clock_timestamp()) * 1000000000)::bigint`

// NextFireTime returns the earliest next fire among unpaused, unclaimed
// jobs, or the earliest claim expiry if that comes first (a claim that
// expires makes its job due again); the zero Time when there is neither.
func (s *Store) NextFireTime(ctx context.Context) (time.Time, error) {
	var next *int64
	err := s.pool.QueryRow(ctx, s.sql(`SELECT least(
		(SELECT next_fire FROM {schema}.jobs WHERE NOT paused AND next_fire IS NOT NULL AND claim_token IS NULL
			ORDER BY next_fire LIMIT 1),
		(SELECT min(claim_until) FROM {schema}.jobs WHERE claim_until IS NOT NULL))`)).Scan(&next)
	if err != nil {
		return time.Time{}, s.fail(ctx, "next fire time", err)
	}
	return fromNullNs(next), nil
}

// claimSQL claims due jobs in one statement: it locks them (skipping rows
// another transaction holds), gives each a new token, and returns them
// with their counts of pending and running runs. Another node's claim is
// taken over once its lease ended both by the caller's clock and the
// server's; the claiming node's own, at once. A claim taken over lapsed
// (DueJob.Lapsed) at the end of its lease, or now if that is sooner.
const claimSQL = `WITH due AS (
		SELECT id, CASE WHEN claim_token IS NOT NULL THEN least(claim_until, $2) END AS lapsed FROM {schema}.jobs
		WHERE NOT paused AND next_fire IS NOT NULL AND next_fire <= $1
			AND (claim_token IS NULL OR claim_node = $4 OR claim_until <= least($2, ` + clockNs + `))
		ORDER BY next_fire, id LIMIT $3
		FOR UPDATE SKIP LOCKED),
	claimed AS (
		UPDATE {schema}.jobs j SET claim_token = nextval('{schema}.claim_tokens'), claim_node = $4, claim_until = $5
		FROM due WHERE j.id = due.id
		RETURNING j.id, j.spec, j.args, j.next_fire, j.claim_token, due.lapsed)
	SELECT c.id, c.spec, c.args, c.next_fire, c.claim_token, c.lapsed,
		coalesce(a.pending, 0), a.first_due, coalesce(a.running, 0)
	FROM claimed c LEFT JOIN (
		SELECT r.job_id, count(*) FILTER (WHERE state = 1) AS pending, min(due) FILTER (WHERE state = 1) AS first_due,
			count(*) FILTER (WHERE state = 2) AS running
		FROM {schema}.runs r WHERE r.job_id IN (SELECT id FROM claimed) AND r.state <= 2
		GROUP BY r.job_id) a ON a.job_id = c.id
	ORDER BY c.next_fire, c.id`

// ClaimDueJobs leases up to c.Limit (zero: 1,000) due jobs to c.Node
// until c.Now + c.Lease, the earliest next fire first, each with its
// running runs and its count of pending ones, and a token no other claim
// had. A job another node holds is taken only once that claim's lease
// has ended by c.Now and by the server's clock, so a node whose clock runs
// ahead takes no lease early. A job that c.Node itself holds is taken
// again at once: a node's schedule loop claims again only after its
// previous claim was committed or given up, typically because the answer
// to a claim or a commit was lost with a connection, and waiting for the
// lease would stall those jobs for its length (the old token no longer
// commits). It is one statement, plus one query for the running runs when
// the jobs have any.
func (s *Store) ClaimDueJobs(ctx context.Context, c sundial.JobClaim) ([]sundial.DueJob, error) {
	if c.Limit <= 0 {
		c.Limit = 1000
	}
	var out []sundial.DueJob
	var running bool
	err := s.send(ctx, "claim due jobs", func(b *pgx.Batch) {
		out, running = nil, false
		b.Queue(s.sql(claimSQL), ns(c.Horizon), ns(c.Now), c.Limit, c.Node, ns(c.Now.Add(c.Lease))).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				d, busy, err := scanDue(rows)
				if err != nil {
					return err
				}
				out, running = append(out, d), running || busy
			}
			return rows.Err()
		})
	})
	if err != nil || !running {
		return out, err
	}
	return out, s.fail(ctx, "claim due jobs", s.addRunning(ctx, out, c.Node))
}

// scanDue reads a row of claimSQL, and whether the job has running runs.
func scanDue(rows pgx.Rows) (sundial.DueJob, bool, error) {
	var c jobColumns
	var d sundial.DueJob
	var pending, running int64
	var first, lapsed *int64
	if err := rows.Scan(&c.id, &c.spec, &c.args, &c.next, &d.Token, &lapsed, &pending, &first, &running); err != nil {
		return d, false, err
	}
	var err error
	d.Job, err = c.job()
	d.Pending, d.PendingDue, d.Lapsed = int(pending), fromNullNs(first), fromNullNs(lapsed)
	return d, running > 0, err
}

// addRunning fills in the claimed jobs' running runs, oldest fence
// first, each with its node's last heartbeat (DueJob.AddRunning).
func (s *Store) addRunning(ctx context.Context, due []sundial.DueJob, node string) error {
	index := make(map[string]int, len(due))
	ids := make([]string, len(due))
	for i, d := range due {
		index[d.Job.ID], ids[i] = i, d.Job.ID
	}
	rows, err := s.pool.Query(ctx, s.sql(`SELECT `+runCols("r.")+`, n.seen, n.started
		FROM {schema}.runs r LEFT JOIN {schema}.nodes n ON n.id = r.node
		WHERE r.state = 2 AND r.job_id = ANY($1) ORDER BY r.job_id, r.fence`), ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seen, started *int64 // NULL for a node without a heartbeat
		r, err := scanRun(withExtra{rows, []any{&seen, &started}})
		if err != nil {
			return err
		}
		due[index[r.JobID]].AddRunning(r, fromNullNs(seen), fromNullNs(started), node)
	}
	return rows.Err()
}

// withExtra scans a row of runCols followed by columns of its own into
// extra.
type withExtra struct {
	pgx.Row
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.Row.Scan(append(dest, w.extra...)...) }

// commitSQL applies a batch of fire commits in one statement: held
// releases the claims that the tokens still hold and sets the next fires;
// only the held jobs' cancellations and runs are applied. The parameters
// from $6 on are the runs (runRows, gated on their commit's job).
var commitSQL = `WITH held AS (
		UPDATE {schema}.jobs j SET next_fire = c.next_fire, claim_token = NULL, claim_node = NULL, claim_until = NULL
		FROM unnest($1::text[], $2::int8[], $3::int8[]) AS c(id, token, next_fire)
		WHERE j.id = c.id AND j.claim_token = c.token
		RETURNING j.id),
	cancelled AS (
		UPDATE {schema}.runs r SET cancel = true
		FROM unnest($4::text[], $5::text[]) AS x(id, job_id)
		WHERE r.id = x.id AND r.state = 2 AND x.job_id IN (SELECT id FROM held)
		RETURNING r.id),
	ins AS (` + insertRunsSQL(6, "gate IN (SELECT id FROM held)") + `)
	SELECT 'j', id FROM held UNION ALL SELECT 'r', id FROM ins`

// CommitFires applies each commit: a commit whose token still holds its
// job's claim inserts its runs (those whose fire's key exists are
// dropped), requests the cancellations, sets the next fire and releases
// the claim; any other is reported Lost and changes nothing. The batch is
// one statement, one round trip and one transaction, however many jobs
// and runs it holds. A next fire after the
// year 2262 is stored as none (the job will not fire again). It fails
// with a *sundial.FieldError when a run's times are out of range.
func (s *Store) CommitFires(ctx context.Context, commits []sundial.FireCommit, now time.Time) ([]sundial.CommitResult, error) {
	out := make([]sundial.CommitResult, len(commits))
	if err := ctx.Err(); err != nil || len(commits) == 0 {
		return out, err
	}
	fc, err := newFireCommits(commits, now)
	if err != nil {
		return nil, err
	}
	if len(fc.ids) == 0 {
		return fc.results(commits, nil, nil), nil
	}
	held, ins := map[string]bool{}, map[string]bool{}
	err = s.send(ctx, "commit fires", func(b *pgx.Batch) {
		clear(held)
		clear(ins)
		b.Queue(s.sql(commitSQL), fc.params()...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var kind, id string
				if err := rows.Scan(&kind, &id); err != nil {
					return err
				}
				if kind == "j" {
					held[id] = true
				} else {
					ins[id] = true
				}
			}
			return rows.Err()
		})
	})
	if err != nil {
		return nil, err
	}
	out = fc.results(commits, held, ins)
	s.announce(committed(commits, out))
	return out, nil
}

// fireCommits are a CommitFires batch as statement parameters.
type fireCommits struct {
	ids                []string
	tokens             []int64
	next               []*int64
	cancelID, cancelOf []string
	runs               runRows
}

// newFireCommits prepares the commits that present a token.
func newFireCommits(commits []sundial.FireCommit, now time.Time) (*fireCommits, error) {
	fc := &fireCommits{}
	for _, c := range commits {
		if c.Token == 0 {
			continue
		}
		fc.ids, fc.tokens = append(fc.ids, c.JobID), append(fc.tokens, c.Token)
		next := c.NextFire
		if next.After(maxTime) {
			next = time.Time{}
		}
		fc.next = append(fc.next, nullNs(next))
		for _, id := range c.Cancel {
			fc.cancelID, fc.cancelOf = append(fc.cancelID, id), append(fc.cancelOf, c.JobID)
		}
		for _, r := range c.Runs {
			if err := checkRunTimes(r); err != nil {
				return nil, err
			}
			fc.runs.add(r, now, c.JobID)
		}
	}
	return fc, nil
}

func (fc *fireCommits) params() []any {
	return append([]any{fc.ids, fc.tokens, fc.next, fc.cancelID, fc.cancelOf}, fc.runs.params()...)
}

// results reports each commit: held (its job's claim held) or lost, and
// the runs inserted.
func (fc *fireCommits) results(commits []sundial.FireCommit, held, inserted map[string]bool) []sundial.CommitResult {
	out := make([]sundial.CommitResult, len(commits))
	byJob := map[string][]*sundial.Run{}
	for _, r := range fc.runs.inserted(inserted) {
		byJob[r.JobID] = append(byJob[r.JobID], r)
	}
	for i, c := range commits {
		out[i] = sundial.CommitResult{JobID: c.JobID, Lost: c.Token == 0 || !held[c.JobID]}
		if !out[i].Lost {
			out[i].Inserted, byJob[c.JobID] = byJob[c.JobID], nil
		}
	}
	return out
}

// committed returns the notices of the commits that held.
func committed(commits []sundial.FireCommit, res []sundial.CommitResult) *noticeSet {
	var n noticeSet
	for i, r := range res {
		if r.Lost {
			continue
		}
		n.add(sundial.NoticeJobsChanged, r.JobID, commits[i].NextFire)
		for _, run := range r.Inserted {
			if run.State == sundial.RunPending {
				n.add(sundial.NoticeRunsCreated, r.JobID, time.Time{})
			}
		}
	}
	return &n
}

// AddRuns inserts runs that no trigger produced; runs whose ID or fire's
// key exists are dropped. It returns the runs inserted, or a
// *sundial.FieldError (inserting nothing) when one of runs is invalid.
// It is one statement.
func (s *Store) AddRuns(ctx context.Context, runs []*sundial.Run) ([]*sundial.Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rows runRows
	for _, r := range runs {
		if err := r.CheckNew(); err != nil {
			return nil, err
		}
		if err := checkRunTimes(r); err != nil {
			return nil, err
		}
		rows.add(r, time.Time{}, "")
	}
	if len(runs) == 0 {
		return nil, nil
	}
	ids := map[string]bool{}
	err := s.send(ctx, "add runs", func(b *pgx.Batch) {
		clear(ids)
		b.Queue(s.sql(insertRunsSQL(1, "true")), rows.params()...).Query(func(r pgx.Rows) error { return collectIDs(r, ids) })
	})
	if err != nil {
		return nil, err
	}
	inserted := rows.inserted(ids)
	var n noticeSet
	for _, r := range inserted {
		if r.State == sundial.RunPending {
			n.add(sundial.NoticeRunsCreated, r.JobID, time.Time{})
		}
	}
	s.announce(&n)
	return inserted, nil
}

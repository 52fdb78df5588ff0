package pgstore

import (
	"context"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/sundialhq/sundial"
)

// ClaimRuns starts pending runs due by c.Horizon, oldest Due first (ties:
// first inserted first), up to c.Limit per executor ("" is "default"),
// while each run's job has fewer than its MaxInstances runs running
// cluster-wide (1 for a removed job). Each started run gets Node,
// Started = c.Now and a fencing token greater than every token given
// before (one sequence serves every job; a job's claims take turns).
//
// It is one transaction of three round trips: the first locks candidate
// runs (skipping those another claim holds), the second takes an advisory
// lock on each of their jobs and then counts the jobs' running runs, so
// two claims never both see a free slot, and the third starts the runs
// and commits. Claims wait for each other's job locks only in sorted
// order, so they cannot deadlock.
func (s *Store) ClaimRuns(ctx context.Context, c sundial.RunClaim) ([]*sundial.Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	want := map[string]int{}
	for executor, n := range c.Limit {
		if n > 0 {
			want[poolOf(executor)] += n
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	var out []*sundial.Run
	err := s.inTx(ctx, "claim runs", func(t *txn) (err error) {
		out, err = newRunClaimer(s, t, c, want).claim()
		return err
	})
	return out, err
}

// maxPages bounds the pages of candidates one claim reads per pool.
const maxPages = 3

// runClaimer starts runs in one transaction.
type runClaimer struct {
	s      *Store
	t      *txn
	c      sundial.RunClaim
	pools  []*poolCursor
	free   map[string]int  // free slots of the jobs whose lock is held
	lost   map[string]bool // jobs whose lock another claim holds
	held   map[int32]bool  // advisory lock keys held
	picked []candidate
}

// poolCursor is one pool's progress through its pending runs.
type poolCursor struct {
	name     string
	want     int
	due, seq int64 // the last candidate read
	done     bool
	page     []candidate
}

// candidate is a pending run as first read: enough to order it and check
// its job's slots.
type candidate struct {
	id, jobID string
	due, seq  int64
}

func newRunClaimer(s *Store, t *txn, c sundial.RunClaim, want map[string]int) *runClaimer {
	cl := &runClaimer{s: s, t: t, c: c, free: map[string]int{}, lost: map[string]bool{}, held: map[int32]bool{}}
	for name, n := range want {
		cl.pools = append(cl.pools, &poolCursor{name: name, want: n, due: math.MinInt64})
	}
	slices.SortFunc(cl.pools, func(a, b *poolCursor) int { return strings.Compare(a.name, b.name) })
	return cl
}

// claim reads pages of candidates, locks and counts their jobs, picks the
// runs that fit, and starts them.
func (cl *runClaimer) claim() ([]*sundial.Run, error) {
	for page := 0; page < maxPages; page++ {
		active, err := cl.readPages()
		if err != nil {
			return nil, err
		}
		if !active {
			break
		}
		if err := cl.lockJobs(page == 0); err != nil {
			return nil, err
		}
		cl.pick()
	}
	if len(cl.picked) == 0 {
		return nil, nil
	}
	return cl.start()
}

// pendingSQL reads a page of a pool's due runs after a cursor, through
// runs_pending, locking them (and skipping those another claim holds),
// less the runs of the jobs $6 that this claim found full or held by
// another. It is a plain range scan: the jobs' slots are counted once
// per job, afterwards, not once per run scanned.
const pendingSQL = `SELECT r.id, r.job_id, r.due, r.seq FROM {schema}.runs r
	WHERE r.state = 1 AND r.pool = $1 AND r.due <= $2 AND (r.due, r.seq) > ($3, $4)
		AND r.job_id <> ALL ($6::text[])
	ORDER BY r.due, r.seq LIMIT $5
	FOR UPDATE OF r SKIP LOCKED`

// pageSize is how many candidates a pool reads at a time.
func (p *poolCursor) pageSize() int { return min(max(2*p.want, 16), 500) }

// readPages reads the next page of every pool that wants runs, and
// reports whether any did.
func (cl *runClaimer) readPages() (bool, error) {
	skip := []string{}
	for id, n := range cl.free {
		if n <= 0 {
			skip = append(skip, id)
		}
	}
	for id := range cl.lost {
		skip = append(skip, id)
	}
	b := &pgx.Batch{}
	for _, p := range cl.pools {
		p.page = nil
		if p.done || p.want == 0 {
			continue
		}
		b.Queue(cl.s.sql(pendingSQL), p.name, ns(cl.c.Horizon), p.due, p.seq, p.pageSize(), skip).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var c candidate
				if err := rows.Scan(&c.id, &c.jobID, &c.due, &c.seq); err != nil {
					return err
				}
				p.page = append(p.page, c)
			}
			return rows.Err()
		})
	}
	if len(b.QueuedQueries) == 0 {
		return false, nil
	}
	return true, cl.t.send(b)
}

// lockJobs takes the advisory lock of each new job among the candidates
// and then reads its slots. On the first page it waits for the locks, in
// key order; later, holding locks already, it takes only those that are
// free, so no two claims can each wait for the other.
func (cl *runClaimer) lockJobs(wait bool) error {
	var jobs []string
	seen, keys := map[string]bool{}, map[int32]bool{}
	for _, p := range cl.pools {
		for _, c := range p.page {
			if _, ok := cl.free[c.jobID]; !ok && !cl.lost[c.jobID] && !seen[c.jobID] {
				seen[c.jobID] = true
				jobs = append(jobs, c.jobID)
				if k := jobKey(c.jobID); !cl.held[k] {
					keys[k] = true
				}
			}
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	sorted := slices.Sorted(maps.Keys(keys))
	b := &pgx.Batch{}
	if wait {
		b.Queue(`SELECT pg_advisory_xact_lock($1, k) FROM unnest($2::int4[]) AS k`, cl.s.lockKey, sorted)
		for _, k := range sorted {
			cl.held[k] = true
		}
	} else {
		b.Queue(`SELECT k FROM unnest($2::int4[]) AS k WHERE pg_try_advisory_xact_lock($1, k)`, cl.s.lockKey, sorted).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var k int32
				if err := rows.Scan(&k); err != nil {
					return err
				}
				cl.held[k] = true
			}
			return rows.Err()
		})
	}
	// The count runs after the locks are held, so it sees every claim of
	// these jobs that committed before.
	b.Queue(cl.s.sql(`SELECT u.id, coalesce(j.instances, 1),
			(SELECT count(*) FROM {schema}.runs r WHERE r.job_id = u.id AND r.state = 2)
		FROM unnest($1::text[]) AS u(id) LEFT JOIN {schema}.jobs j ON j.id = u.id`), jobs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			var max, running int64
			if err := rows.Scan(&id, &max, &running); err != nil {
				return err
			}
			if cl.held[jobKey(id)] {
				cl.free[id] = int(max - running)
			} else {
				cl.lost[id] = true
			}
		}
		return rows.Err()
	})
	return cl.t.send(b)
}

// jobKey is the second key of a job's advisory lock (jobs may share one).
func jobKey(jobID string) int32 {
	h := fnv.New32a()
	h.Write([]byte(jobID))
	return int32(h.Sum32())
}

// pick takes, from each pool's page in order, the runs whose jobs have a
// free slot, while the pool wants more.
func (cl *runClaimer) pick() {
	for _, p := range cl.pools {
		for _, c := range p.page {
			if p.want > 0 && cl.free[c.jobID] > 0 {
				cl.picked = append(cl.picked, c)
				cl.free[c.jobID]--
				p.want--
			}
		}
		if n := len(p.page); n < p.pageSize() || p.want == 0 {
			p.done = true
		} else {
			p.due, p.seq = p.page[n-1].due, p.page[n-1].seq
		}
	}
}

// startSQL starts the picked runs, each with the next fencing token.
var startSQL = `UPDATE {schema}.runs r SET state = 2, node = $1, started = $2, fence = nextval('{schema}.fence_tokens')
	FROM unnest($3::text[]) AS u(id)
	WHERE r.id = u.id
	RETURNING ` + runCols("r.")

// start starts the picked runs and commits, and returns them in the order
// they were picked.
func (cl *runClaimer) start() ([]*sundial.Run, error) {
	ids := make([]string, len(cl.picked))
	order := make(map[string]int, len(cl.picked))
	for i, c := range cl.picked {
		ids[i], order[c.id] = c.id, i
	}
	out := make([]*sundial.Run, len(cl.picked))
	b := &pgx.Batch{}
	b.Queue(cl.s.sql(startSQL), cl.c.Node, ns(cl.c.Now), ids).Query(func(rows pgx.Rows) error {
		runs, err := scanRuns(rows)
		for _, r := range runs {
			out[order[r.ID]] = r
		}
		return err
	})
	if err := cl.t.commit(b); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(out, func(r *sundial.Run) bool { return r == nil }), nil
}

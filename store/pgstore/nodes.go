package pgstore

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sundialhq/sundial"
)

// StoreNow returns the server's clock (clock_timestamp(), to the
// microsecond), so the scheduler can run on the store's time.
func (s *Store) StoreNow(ctx context.Context) (time.Time, error) {
	var t time.Time
	if err := s.pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&t); err != nil {
		return time.Time{}, s.fail(ctx, "read the server's clock", err)
	}
	return t.UTC(), nil
}

// Heartbeat records that node is alive until now + node.TTL (zero: 10s)
// and returns the runs it must cancel: those of node.Running that are not
// running on it any more (or are unknown), and those whose cancellation a
// newer fire requested. It is one round trip. It fails with a
// *sundial.FieldError for a node without an ID.
func (s *Store) Heartbeat(ctx context.Context, node sundial.NodeInfo, now time.Time) (sundial.Heartbeat, error) {
	if err := ctx.Err(); err != nil {
		return sundial.Heartbeat{}, err
	}
	if node.ID == "" {
		return sundial.Heartbeat{}, invalid("node.id", "missing")
	}
	ttl := node.TTL
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	var hb sundial.Heartbeat
	running := append([]string{}, node.Running...)
	err := s.send(ctx, "heartbeat "+node.ID, func(b *pgx.Batch) {
		hb = sundial.Heartbeat{}
		b.Queue(s.sql(`INSERT INTO {schema}.nodes (id, role, started, seen, expires) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET role = excluded.role, started = excluded.started,
				seen = excluded.seen, expires = excluded.expires`),
			node.ID, int16(node.Role), ns(node.Started), ns(now), ns(now.Add(ttl)))
		b.Queue(s.sql(`SELECT x.id FROM unnest($1::text[]) AS x(id) WHERE NOT EXISTS (
			SELECT 1 FROM {schema}.runs r WHERE r.id = x.id AND r.state = 2 AND r.node = $2 AND NOT r.cancel)`),
			running, node.ID).Query(func(rows pgx.Rows) (err error) {
			hb.Cancel, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		b.Queue(s.sql(`SELECT min(expires) FROM {schema}.nodes WHERE id <> $1`), node.ID).QueryRow(func(row pgx.Row) error {
			var peer *int64
			if err := row.Scan(&peer); err != nil {
				return err
			}
			hb.PeerExpiry = fromNullNs(peer)
			return nil
		})
	})
	return hb, err
}

// RecoverRuns marks the running runs of lost nodes as interrupted ("node
// lost"), inserts their retries per their job's retry policy
// (sundial.PlanRetry), and reports them with the lost nodes, each once: a
// lost node's heartbeat row is deleted, and a node that heartbeats again
// is alive again. A node is lost once its heartbeat expired both by now
// and by the server's clock, so a node whose clock runs ahead cannot
// declare a live one lost. When no node is lost it is one query.
func (s *Store) RecoverRuns(ctx context.Context, now time.Time) (sundial.Recovery, error) {
	var lost bool
	err := s.pool.QueryRow(ctx, s.sql(`SELECT EXISTS (SELECT 1 FROM {schema}.nodes WHERE expires <= least($1, `+clockNs+`))`),
		ns(now)).Scan(&lost)
	if err != nil || !lost {
		return sundial.Recovery{}, s.fail(ctx, "recover runs", err)
	}
	var rec sundial.Recovery
	err = s.inTx(ctx, "recover runs", func(t *txn) (err error) {
		rec, err = recoverNodes(s, t, now)
		return err
	})
	if err != nil {
		return sundial.Recovery{}, err
	}
	var n noticeSet
	for _, r := range rec.Interrupted {
		n.add(sundial.NoticeRunFinished, r.JobID, time.Time{})
	}
	for _, r := range rec.Retries {
		n.add(sundial.NoticeRunsCreated, r.JobID, time.Time{})
	}
	s.announce(&n)
	return rec, nil
}

// recoverNodes deletes the lost nodes, interrupts their runs and inserts the
// retries, in t, and commits.
func recoverNodes(s *Store, t *txn, now time.Time) (sundial.Recovery, error) {
	var rec sundial.Recovery
	b := &pgx.Batch{}
	b.Queue(s.sql(`DELETE FROM {schema}.nodes WHERE expires <= least($1, `+clockNs+`) RETURNING id`), ns(now)).Query(func(rows pgx.Rows) (err error) {
		rec.LostNodes, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err := t.send(b); err != nil || len(rec.LostNodes) == 0 {
		return rec, err
	}
	slices.Sort(rec.LostNodes)
	b = &pgx.Batch{}
	b.Queue(s.sql(`UPDATE {schema}.runs SET state = $2, reason = $3, finished = $4, cancel = false,
			archived = nextval('{schema}.finish_order')
		WHERE state = 2 AND node = ANY($1)
		RETURNING `+runCols("")), rec.LostNodes, int16(sundial.RunInterrupted), sundial.ReasonNodeLost, ns(now)).Query(func(rows pgx.Rows) (err error) {
		rec.Interrupted, err = scanRuns(rows)
		return err
	})
	if err := t.send(b); err != nil || len(rec.Interrupted) == 0 {
		return rec, err
	}
	slices.SortFunc(rec.Interrupted, func(a, b *sundial.Run) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), a.Started.Compare(b.Started), strings.Compare(a.ID, b.ID))
	})
	var err error
	rec.Retries, err = retryInterrupted(s, t, rec.Interrupted, now)
	return rec, err
}

// retryInterrupted reads the interrupted runs' jobs and inserts the
// retries their policies allow, and commits.
func retryInterrupted(s *Store, t *txn, runs []*sundial.Run, now time.Time) ([]*sundial.Run, error) {
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.JobID)
	}
	jobs := map[string]*sundial.Job{}
	b := &pgx.Batch{}
	b.Queue(s.sql(`SELECT `+jobCols+` FROM {schema}.jobs WHERE id = ANY($1)`), ids).Query(func(rows pgx.Rows) error {
		return collectJobs(rows, jobs)
	})
	if err := t.send(b); err != nil {
		return nil, err
	}
	var retries runRows
	for _, r := range runs {
		if retry := sundial.PlanRetry(jobs[r.JobID], r, now); retry != nil { // nil for a removed job
			retries.add(retry, now, "")
		}
	}
	inserted := map[string]bool{}
	b = &pgx.Batch{}
	if len(retries.runs) > 0 {
		b.Queue(s.sql(insertRunsSQL(1, "true")), retries.params()...).Query(func(rows pgx.Rows) error {
			return collectIDs(rows, inserted)
		})
	}
	if err := t.commit(b); err != nil {
		return nil, err
	}
	return retries.inserted(inserted), nil
}

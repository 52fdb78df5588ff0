package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/sundialhq/sundial"
)

// Heartbeat records that node is alive until now + node.TTL (zero: 10s)
// and returns the runs it must cancel: those of node.Running that are not
// running on it any more (or are unknown), and those whose cancellation a
// newer fire requested. It fails with a *sundial.FieldError for a node
// without an ID.
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
	err := s.write(ctx, "heartbeat "+node.ID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO nodes (id, role, started, seen, expires) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET role = excluded.role, started = excluded.started,
				seen = excluded.seen, expires = excluded.expires`,
			node.ID, int(node.Role), timeText(node.Started), timeText(now), timeText(now.Add(ttl)))
		if err != nil {
			return err
		}
		if hb.Cancel, err = toCancel(ctx, tx, node); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT min(expires) FROM nodes WHERE id <> ?`, node.ID).Scan(timeScan{&hb.PeerExpiry})
	})
	return hb, err
}

// toCancel returns the runs of node.Running that node must stop.
func toCancel(ctx context.Context, tx *sql.Tx, node sundial.NodeInfo) ([]string, error) {
	var out []string
	for _, id := range node.Running {
		var keep bool
		err := tx.QueryRowContext(ctx, `SELECT state = 2 AND node = ? AND cancel = 0 FROM runs WHERE id = ?`,
			node.ID, id).Scan(&keep)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if !keep {
			out = append(out, id)
		}
	}
	return out, nil
}

// RecoverRuns marks the running runs of nodes whose heartbeat expired by
// now as interrupted ("node lost"), inserts their retries per their job's
// retry policy (sundial.PlanRetry), and reports them with the lost nodes,
// each once: a lost node's heartbeat row is deleted, and a node that
// heartbeats again is alive again. When no node is lost it takes no write
// lock.
func (s *Store) RecoverRuns(ctx context.Context, now time.Time) (sundial.Recovery, error) {
	var rec sundial.Recovery
	var lost bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM nodes WHERE expires <= ?)`, timeText(now)).Scan(&lost)
	if err != nil || !lost {
		return rec, s.fail(ctx, "recover runs", err)
	}
	err = s.write(ctx, "recover runs", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM nodes WHERE expires <= ? RETURNING id`, timeText(now))
		if err != nil {
			return err
		}
		if rec.LostNodes, err = scanStrings(rows); err != nil || len(rec.LostNodes) == 0 {
			return err
		}
		slices.Sort(rec.LostNodes)
		return s.inWriter(ctx, tx, func(w *txWriter) error { return w.interrupt(now, &rec) })
	})
	if err != nil {
		return sundial.Recovery{}, err
	}
	var notices []sundial.Notice
	for _, r := range rec.Interrupted {
		notices = append(notices, sundial.Notice{Kind: sundial.NoticeRunFinished, JobID: r.JobID})
	}
	if len(rec.Retries) > 0 {
		notices = append(notices, sundial.Notice{Kind: sundial.NoticeRunsCreated})
	}
	s.publish(notices...)
	return rec, nil
}

// interrupt ends the running runs of rec.LostNodes and inserts retries.
func (w *txWriter) interrupt(now time.Time, rec *sundial.Recovery) error {
	jobs := map[string]*sundial.Job{}
	for _, node := range rec.LostNodes {
		runs, err := scanRuns(w.tx.QueryContext(w.ctx, `SELECT `+runCols+` FROM runs
			WHERE state = 2 AND node = ? ORDER BY started, id`, node))
		if err != nil {
			return err
		}
		for _, r := range runs {
			if err := w.interruptRun(r, now); err != nil {
				return err
			}
			rec.Interrupted = append(rec.Interrupted, r)
			job, err := jobOf(w.ctx, w.tx, jobs, r.JobID)
			if err != nil {
				return err
			}
			if retry := sundial.PlanRetry(job, r, now); retry != nil {
				inserted, err := w.insert([]*sundial.Run{retry}, now)
				if err != nil {
					return err
				}
				rec.Retries = append(rec.Retries, inserted...)
			}
		}
	}
	return nil
}

func (w *txWriter) interruptRun(r *sundial.Run, now time.Time) error {
	seq, err := w.nextArchive()
	if err != nil {
		return err
	}
	r.State, r.Reason, r.Finished = sundial.RunInterrupted, "node lost", now
	_, err = w.tx.ExecContext(w.ctx, `UPDATE runs SET state = ?, reason = ?, finished = ?, cancel = 0, archived = ? WHERE id = ?`,
		int(r.State), r.Reason, timeText(now), seq, r.ID)
	return err
}

// jobOf returns a run's job (nil if removed), reading each job once.
func jobOf(ctx context.Context, tx *sql.Tx, cache map[string]*sundial.Job, id string) (*sundial.Job, error) {
	if j, ok := cache[id]; ok {
		return j, nil
	}
	j, err := getJob(ctx, tx, id)
	if errors.Is(err, sundial.ErrNotFound) {
		j, err = nil, nil
	}
	cache[id] = j
	return j, err
}

func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

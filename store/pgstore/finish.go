package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sundialhq/sundial"
)

// FinishRun records a running run's end (State, Finished, Error, Stack,
// Reason, and Started: zero when the task never began) and, in the same
// transaction, inserts retry when not nil. It fails with a
// *sundial.FieldError for a state that is not final or an invalid retry,
// an error matching sundial.ErrNotFound for an unknown run, and one
// matching sundial.ErrConflict when the run is not running on run.Node.
// A NUL byte or invalid UTF-8 in Error, Stack or Reason is stored as
// U+FFFD.
func (s *Store) FinishRun(ctx context.Context, run *sundial.Run, retry *sundial.Run) error {
	id := "<nil>"
	if run != nil {
		id = run.ID
	}
	return s.finishRuns(ctx, "finish run "+id, []sundial.RunEnd{{Run: run, Retry: retry}})[0]
}

// FinishRuns records many run ends in one statement (one round trip and
// one transaction): each as FinishRun would, with an error per end, in
// order. An end refused (bad input, an unknown run, one no longer running
// on its node, one that an earlier end of the same call already ended)
// does not stop the others; a database error fails them all.
func (s *Store) FinishRuns(ctx context.Context, ends []sundial.RunEnd) []error {
	return s.finishRuns(ctx, "finish runs", ends)
}

func (s *Store) finishRuns(ctx context.Context, op string, ends []sundial.RunEnd) []error {
	errs := make([]error, len(ends))
	if err := ctx.Err(); err != nil {
		return fill(errs, err)
	}
	fe := newFinishEnds(ends, errs)
	if len(fe.sent) == 0 {
		return errs
	}
	var res finishResult
	err := s.send(ctx, op, func(b *pgx.Batch) {
		res = finishResult{refused: map[string]refusal{}, done: map[string]string{}, retried: map[string]bool{}}
		b.Queue(s.sql(finishSQL), fe.params()...).Query(res.scan)
	})
	if err != nil {
		return fill(errs, err)
	}
	s.announce(fe.report(ends, errs, &res))
	return errs
}

// fill sets every element of errs to err and returns errs.
func fill(errs []error, err error) []error {
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// finishSQL ends the running runs of a batch, inserts the retries of
// those it ended (parameters from $9, gated on the ended run's ID), and
// says why it refused the others: the row as it was (state 0: no such
// run).
var finishSQL = `WITH e AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::int2[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::int8[])
			AS e(id, node, state, finished, error, stack, reason, started)),
	done AS (
		UPDATE {schema}.runs r SET state = e.state, finished = e.finished, error = e.error, stack = e.stack,
			reason = e.reason, started = e.started, cancel = false, archived = nextval('{schema}.finish_order')
		FROM e WHERE r.id = e.id AND r.state = 2 AND r.node = e.node
		RETURNING r.id, r.job_id),
	ins AS (` + insertRunsSQL(9, "gate IN (SELECT id FROM done)") + `)
	SELECT 'd', d.id, d.job_id, 0::int2, ''::text COLLATE "C" FROM done d
	UNION ALL SELECT 'r', i.id, '', 0::int2, '' FROM ins i
	UNION ALL SELECT 'x', e.id COLLATE "C", '', coalesce(r.state, 0::int2), coalesce(r.node, '')
		FROM e LEFT JOIN {schema}.runs r ON r.id = e.id WHERE e.id COLLATE "C" NOT IN (SELECT id FROM done)`

// finishEnds are the ends of a FinishRuns call that go to the server.
type finishEnds struct {
	sent  []int          // indexes of the ends sent
	first map[string]int // run ID → the index of its first end
	dupOf map[int]int    // a later end of a run → its first end

	id, node, errText, stack, reason []string
	state                            []int16
	finished, started                []int64
	retries                          runRows
}

// newFinishEnds checks each end (setting errs for bad ones) and lays out
// the rest as statement parameters.
func newFinishEnds(ends []sundial.RunEnd, errs []error) *finishEnds {
	fe := &finishEnds{first: map[string]int{}, dupOf: map[int]int{}}
	for i, e := range ends {
		if errs[i] = checkEnd(e); errs[i] != nil {
			continue
		}
		r := e.Run
		if j, dup := fe.first[r.ID]; dup {
			fe.dupOf[i] = j
			continue
		}
		fe.first[r.ID] = i
		fe.sent = append(fe.sent, i)
		fe.id, fe.node, fe.state = append(fe.id, r.ID), append(fe.node, r.Node), append(fe.state, int16(r.State))
		fe.finished, fe.started = append(fe.finished, ns(r.Finished)), append(fe.started, ns(r.Started))
		fe.errText, fe.stack, fe.reason = append(fe.errText, text(r.Error)), append(fe.stack, text(r.Stack)), append(fe.reason, text(r.Reason))
		if e.Retry != nil {
			fe.retries.add(e.Retry, r.Finished, r.ID)
		}
	}
	return fe
}

// checkEnd makes FinishRun's checks of one end.
func checkEnd(e sundial.RunEnd) error {
	if err := sundial.CheckFinish(e.Run, e.Retry); err != nil {
		return err
	}
	if err := checkRunTimes(e.Run); err != nil {
		return err
	}
	if e.Retry != nil {
		return checkRunTimes(e.Retry)
	}
	return nil
}

func (fe *finishEnds) params() []any {
	return append([]any{fe.id, fe.node, fe.state, fe.finished, fe.errText, fe.stack, fe.reason, fe.started},
		fe.retries.params()...)
}

// finishResult is what finishSQL returned.
type finishResult struct {
	done    map[string]string // ended run → its job
	retried map[string]bool   // retries inserted
	refused map[string]refusal
}

// refusal is a refused run as it was: state 0 when there is no such run.
type refusal struct {
	state sundial.RunState
	node  string
}

func (res *finishResult) scan(rows pgx.Rows) error {
	for rows.Next() {
		var kind, id, job, node string
		var state int16
		if err := rows.Scan(&kind, &id, &job, &state, &node); err != nil {
			return err
		}
		switch kind {
		case "d":
			res.done[id] = job
		case "r":
			res.retried[id] = true
		default:
			res.refused[id] = refusal{sundial.RunState(state), node}
		}
	}
	return rows.Err()
}

// report sets the errors of the ends sent and of their duplicates, and
// returns the notices of what changed.
func (fe *finishEnds) report(ends []sundial.RunEnd, errs []error, res *finishResult) *noticeSet {
	var n noticeSet
	for _, i := range fe.sent {
		r := ends[i].Run
		job, ok := res.done[r.ID]
		if !ok {
			errs[i] = refused(r.ID, res.refused[r.ID])
			continue
		}
		n.add(sundial.NoticeRunFinished, job, time.Time{})
		if retry := ends[i].Retry; retry != nil && res.retried[retry.ID] {
			n.add(sundial.NoticeRunsCreated, job, time.Time{})
		}
	}
	for i, j := range fe.dupOf {
		errs[i] = errs[j]
		if errs[j] == nil { // ended by its first end in this call
			errs[i] = refused(ends[i].Run.ID, refusal{ends[j].Run.State, ends[j].Run.Node})
		}
	}
	return &n
}

// refused says why a run could not be ended.
func refused(id string, r refusal) error {
	if r.state == 0 {
		return notFound("run %s", id)
	}
	return conflict("run %s is %s on node %s", id, r.state, r.node)
}

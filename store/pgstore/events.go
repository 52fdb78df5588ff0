package pgstore

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"
)

// maxPayload is the largest NOTIFY payload sent. PostgreSQL refuses one of
// 8000 bytes or more (its default build); the margin is for the channel
// name, which counts against the same limit in older versions.
const maxPayload = 7800

// eventBatchAge is how long a large batch stays in its table for
// listeners to read it.
const eventBatchAge = "5 minutes"

// PublishEvents sends a batch of events, encoded by sundial.EncodeEvents,
// to every Store subscribed to this schema's events, this one included,
// with NOTIFY on the schema's events channel. A batch that fits a NOTIFY
// payload goes as it is. A larger one is split, between events, into
// parts that fit, each a JSON array of its own; an event too large for a
// payload by itself (a long stack trace) is stored in the event_batches
// table and the notification carries its row's ID, which listeners read
// back. All parts go in one transaction, in order. It fails with an error
// matching sundial.ErrInvalid when batch is not a JSON array.
func (s *Store) PublishEvents(ctx context.Context, batch []byte) error {
	parts, err := splitEvents(batch)
	if err != nil {
		return err
	}
	return s.send(ctx, "publish events", func(b *pgx.Batch) {
		stored := false
		for _, p := range parts {
			if len(p) < maxPayload {
				b.Queue(`SELECT pg_notify($1, $2)`, s.events, string(p))
				continue
			}
			b.Queue(s.sql(`WITH ins AS (INSERT INTO {schema}.event_batches (data) VALUES ($2) RETURNING id)
				SELECT pg_notify($1, '@' || id) FROM ins`), s.events, string(p))
			stored = true
		}
		if stored {
			b.Queue(s.sql(`DELETE FROM {schema}.event_batches WHERE created < now() - interval '` + eventBatchAge + `'`))
		}
	})
}

// splitEvents cuts a JSON array into arrays that each fit a payload,
// keeping events whole and in order; an event that alone is too large is
// a part of its own.
func splitEvents(batch []byte) ([][]byte, error) {
	if len(batch) < maxPayload {
		return [][]byte{batch}, nil
	}
	var events []json.RawMessage
	if err := json.Unmarshal(batch, &events); err != nil {
		return nil, invalid("batch", "not a JSON array of events: %v", err)
	}
	var parts [][]byte
	part := []byte{'['}
	for _, e := range events {
		if len(part) > 1 && len(part)+len(e)+2 >= maxPayload { // a comma, the event, "]"
			parts = append(parts, append(part, ']'))
			part = []byte{'['}
		}
		if len(part) > 1 {
			part = append(part, ',')
		}
		part = append(part, e...)
	}
	if len(part) > 1 {
		parts = append(parts, append(part, ']'))
	}
	return parts, nil
}

// SubscribeEvents calls fn with every batch of events published on this
// schema, by any Store, until the returned function is called. Batches
// come from the listener's goroutine, in the order each publisher sent
// them; those published while the listener's connection is down are lost
// (sundial.EventBus promises best effort). fn must not block.
func (s *Store) SubscribeEvents(fn func(batch []byte)) (unsubscribe func()) {
	return s.lis.subscribe(nil, fn)
}

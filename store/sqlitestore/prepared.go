package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// hotQueries are the statements the scheduler's loops run many times a
// second. A Store prepares them once, when it opens, and every
// transaction reuses them: compiling SQL cost more CPU than running it.
var hotQueries []string

// hot registers a hot query and returns it.
func hot(query string) string {
	hotQueries = append(hotQueries, query)
	return query
}

// prepareHot prepares the hot queries on the database. Each connection
// compiles a statement once, on first use, and keeps it while the Store
// is open.
func (s *Store) prepareHot(ctx context.Context) error {
	s.prepared = make(map[string]*sql.Stmt, len(hotQueries))
	for _, q := range hotQueries {
		st, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			s.closePrepared()
			return fmt.Errorf("sqlitestore: prepare %.40q: %w", q, err)
		}
		s.prepared[q] = st
	}
	return nil
}

func (s *Store) closePrepared() {
	for _, st := range s.prepared {
		st.Close()
	}
	s.prepared = nil
}

// row runs a query outside a transaction, prepared when it is hot.
func (s *Store) row(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.prepared[query]; st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

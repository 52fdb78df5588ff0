package clusterbench

import (
	"context"
	"io"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/pgstore"
)

// sundialPG is sundial on store/pgstore, in a schema of this run's own
// (pgstore.Config.Schema), created and migrated by the first replica to
// open it, its pool pgx's default size.
var sundialPG = sundialLib("sundial-pg", []string{"postgres"}, openPG, nil, migratePG, dropSchema)

func openPG(ctx context.Context, env *Env) (sundial.Store, io.Closer, error) {
	st, err := pgstore.New(ctx, pgstore.Config{URL: env.Postgres, Schema: env.Schema, Logger: warnLogger()})
	if err != nil {
		return nil, nil, err
	}
	return st, st, nil
}

// migratePG creates the schema before the replicas race to.
func migratePG(ctx context.Context, env *Env) error {
	st, closer, err := openPG(ctx, env)
	if err != nil {
		return err
	}
	_ = st
	return closer.Close()
}

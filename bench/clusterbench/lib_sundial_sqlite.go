package clusterbench

import (
	"context"
	"io"
	"path/filepath"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/sqlitestore"
)

// sundialSQLite is sundial on one SQLite file shared by the replicas, all
// on this machine: not a cluster store (SQLite has one writer and no
// notices, so the replicas poll every 100 ms), but it runs the harness
// without servers.
var sundialSQLite = sundialLib("sundial-sqlite", nil, openSQLite,
	func(c *sundial.Config) { c.PollInterval = 100 * time.Millisecond }, createSQLite, nil)

// createSQLite creates and migrates the file before the replicas open it.
func createSQLite(ctx context.Context, env *Env) error {
	st, _, err := openSQLite(ctx, env)
	if err != nil {
		return err
	}
	return st.(*sqlitestore.Store).Close()
}

func openSQLite(ctx context.Context, env *Env) (sundial.Store, io.Closer, error) {
	st, err := sqlitestore.New(ctx, sqlitestore.Config{Path: filepath.Join(env.Dir, "shared.db")})
	if err != nil {
		return nil, nil, err
	}
	return st, st, nil
}

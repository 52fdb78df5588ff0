package clusterbench

import (
	"context"
	"io"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/redisstore"
)

// sundialRedis is sundial on store/redisstore, its keys under this run's
// prefix (redisstore.Config.Prefix), deleted afterwards.
var sundialRedis = sundialLib("sundial-redis", []string{"redis"}, openRedis, nil, nil, deleteKeys)

func openRedis(ctx context.Context, env *Env) (sundial.Store, io.Closer, error) {
	st, err := redisstore.New(ctx, redisstore.Config{URL: env.Redis, Prefix: env.Prefix, Logger: warnLogger()})
	if err != nil {
		return nil, nil, err
	}
	return st, st, nil
}

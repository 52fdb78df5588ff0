package clusterbench

import (
	"context"
	"errors"
	"io"

	"github.com/sundialhq/sundial"
)

// Placeholders until store/pgstore and store/redisstore land.
var (
	sundialPG    = sundialLib("sundial-pg", []string{"postgres"}, notYet, nil, nil, nil)
	sundialRedis = sundialLib("sundial-redis", []string{"redis"}, notYet, nil, nil, nil)
)

func notYet(context.Context, *Env) (sundial.Store, io.Closer, error) {
	return nil, nil, errors.New("clusterbench: store not written yet")
}

package clusterbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/redis/go-redis/v9"
)

// redisClient connects to env.Redis.
func redisClient(env *Env) (*redis.Client, error) {
	opt, err := redis.ParseURL(env.Redis)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opt), nil
}

// deleteKeys removes the keys under env.Prefix (Teardown of the Redis
// libraries).
func deleteKeys(ctx context.Context, env *Env) error {
	rdb, err := redisClient(env)
	if err != nil {
		return err
	}
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, env.Prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil || len(keys) == 0 {
		return err
	}
	for from := 0; from < len(keys); from += 1000 {
		if err := rdb.Del(ctx, keys[from:min(from+1000, len(keys))]...).Err(); err != nil {
			return err
		}
	}
	return nil
}

func token() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var errHeld = errors.New("clusterbench: lock held by another replica")

// redisLocker is the lock teams put in front of a scheduler on every
// replica: SET <job> <token> NX PX <ttl> before each fire, and after the
// run a release that deletes the key only while it still holds the token.
// gocron calls Lock with the job's name before every fire and skips the
// fire when it fails.
type redisLocker struct {
	rdb    *redis.Client
	prefix string
	ttl    time.Duration
}

var releaseScript = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`)

func (l *redisLocker) Lock(ctx context.Context, key string) (gocron.Lock, error) {
	tok := token()
	ok, err := l.rdb.SetNX(ctx, l.prefix+key, tok, l.ttl).Result()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errHeld
	}
	return &redisLock{l: l, key: l.prefix + key, token: tok}, nil
}

type redisLock struct {
	l          *redisLocker
	key, token string
}

func (k *redisLock) Unlock(ctx context.Context) error {
	return releaseScript.Run(ctx, k.l.rdb, []string{k.key}, k.token).Err()
}

// redisLease elects a leader on one key: the holder renews it every
// renew, another replica takes it when it has expired. A replica counts
// itself leader until ttl after it sent its last successful renewal, so
// its belief ends before the key can expire on the server.
type redisLease struct {
	rdb        *redis.Client
	key, node  string
	ttl, renew time.Duration
	mu         sync.Mutex
	until      time.Time
	stop       context.CancelFunc
	done       chan struct{}
}

var campaignScript = redis.NewScript(`
local v = redis.call("get", KEYS[1])
if v == ARGV[1] then redis.call("pexpire", KEYS[1], ARGV[2]) return 1 end
if not v then redis.call("set", KEYS[1], ARGV[1], "PX", ARGV[2]) return 1 end
return 0`)

var errNotLeader = errors.New("clusterbench: not the leader")

// IsLeader is gocron's Elector: nil while this replica holds the lease.
func (e *redisLease) IsLeader(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if time.Now().Before(e.until) {
		return nil
	}
	return errNotLeader
}

func (e *redisLease) start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.stop, e.done = cancel, make(chan struct{})
	e.campaign(ctx)
	go func() {
		defer close(e.done)
		t := time.NewTicker(e.renew)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				e.campaign(ctx)
			}
		}
	}()
}

func (e *redisLease) campaign(ctx context.Context) {
	sent := time.Now()
	won, err := campaignScript.Run(ctx, e.rdb, []string{e.key}, e.node, e.ttl.Milliseconds()).Int()
	if err != nil || won != 1 {
		return
	}
	e.mu.Lock()
	e.until = sent.Add(e.ttl)
	e.mu.Unlock()
}

// close stops campaigning and hands the lease over at once, as a replica
// shutting down gracefully would.
func (e *redisLease) close(ctx context.Context) error {
	e.stop()
	<-e.done
	e.mu.Lock()
	e.until = time.Time{}
	e.mu.Unlock()
	return releaseScript.Run(ctx, e.rdb, []string{e.key}, e.node).Err()
}

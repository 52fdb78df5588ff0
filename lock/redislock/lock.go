package redislock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	// ErrNotObtained reports that Obtain found the lock held.
	ErrNotObtained = errors.New("redislock: lock not obtained: held by another")
	// ErrNotHeld reports that Release found the lock no longer held by
	// this token: it expired (and may have been obtained by another), or
	// was released already.
	ErrNotHeld = errors.New("redislock: lock not held")
	// ErrLost is the cause of a lock's Context when renewing it failed.
	ErrLost = errors.New("redislock: lock lost")
	// ErrReleased is the cause of a lock's Context after Release.
	ErrReleased = errors.New("redislock: lock released")
	// ErrInvalid reports a bad argument (an empty key, a TTL too short).
	ErrInvalid = errors.New("redislock: invalid argument")
)

// MinTTL is the shortest TTL Obtain accepts: a lock renews itself every
// third of it.
const MinTTL = 30 * time.Millisecond

// Options configures a Client. The zero value is ready to use.
type Options struct {
	// Prefix starts the keys of the locks. Empty means "lock:".
	Prefix string
}

// Client obtains locks on one Redis. It is safe for concurrent use.
type Client struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a Client that obtains locks through rdb, which it does not
// close.
func New(rdb redis.UniversalClient, opt Options) *Client {
	if opt.Prefix == "" {
		opt.Prefix = "lock:"
	}
	return &Client{rdb: rdb, prefix: opt.Prefix}
}

var (
	// obtain sets the lock's key to its token if free, and then takes the
	// next fencing token.
	obtainScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0`)
	// renew extends the key's TTL if it still holds the token.
	renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)
	// release deletes the key if it still holds the token.
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)
)

// Obtain takes the lock named key for ttl, if no one holds it, and keeps
// it (renewing it every ttl/3) until Release or until it is lost. It
// fails with ErrNotObtained when the lock is held, with an error matching
// ErrInvalid for an empty key or a ttl under MinTTL, and with the Redis
// error when Redis cannot be reached.
func (c *Client) Obtain(ctx context.Context, key string, ttl time.Duration) (*Lock, error) {
	if key == "" {
		return nil, fmt.Errorf("%w: empty key", ErrInvalid)
	}
	if ttl < MinTTL {
		return nil, fmt.Errorf("%w: ttl %v is under %v", ErrInvalid, ttl, MinTTL)
	}
	l := &Lock{rdb: c.rdb, key: key, keys: []string{c.prefix + "{" + key + "}", c.prefix + "{" + key + "}:fence"},
		token: newToken(), ttl: ttl, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	sent := time.Now()
	fence, err := obtainScript.Run(ctx, c.rdb, l.keys, l.token, ttl.Milliseconds()).Int64()
	switch {
	case err != nil:
		return nil, fmt.Errorf("redislock: obtain %s: %w", key, err)
	case fence == 0:
		return nil, ErrNotObtained
	}
	l.fence = fence
	l.ctx, l.cancel = context.WithCancelCause(context.Background())
	go l.keep(sent.Add(ttl))
	return l, nil
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Lock is a held lock. Its methods are safe for concurrent use.
type Lock struct {
	rdb   redis.UniversalClient
	key   string
	keys  []string // the lock's key and its fence counter's
	token string
	fence int64
	ttl   time.Duration

	ctx    context.Context
	cancel context.CancelCauseFunc
	lost   chan struct{} // closed when renewing fails
	stop   chan struct{} // closed by Release
	done   chan struct{} // closed when keep returns

	mu       sync.Mutex
	released bool
}

// Key returns the lock's name.
func (l *Lock) Key() string { return l.key }

// Token returns the random value the lock's key holds while this Lock
// holds it.
func (l *Lock) Token() string { return l.token }

// Fence returns the lock's fencing token: greater than that of every
// earlier holder of the key.
func (l *Lock) Fence() int64 { return l.fence }

// Context returns a context cancelled when the lock is lost (cause
// ErrLost) or released (cause ErrReleased): the holder's work runs under
// it.
func (l *Lock) Context() context.Context { return l.ctx }

// Lost returns a channel closed when the lock is lost: its key was
// deleted or taken by another, or Redis could not be reached to renew it
// before its TTL could have run out. It is not closed by Release.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// keep renews the lock every ttl/3 until Release, and declares it lost
// when a renewal finds the key gone or taken, or when renewals failed
// until the lock's end (as far as this side can tell) came near. expires
// is that end: a TTL after the last successful call was sent.
func (l *Lock) keep(expires time.Time) {
	defer close(l.done)
	every := l.ttl / 3
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		sent := time.Now()
		// Wait for an answer no later than the end: after it the lock may
		// be another's.
		ctx, cancel := context.WithDeadline(context.Background(), expires)
		ok, err := renewScript.Run(ctx, l.rdb, l.keys[:1], l.token, l.ttl.Milliseconds()).Int64()
		cancel()
		switch {
		case err == nil && ok == 1:
			expires = sent.Add(l.ttl)
			t.Reset(every)
		case err == nil:
			l.lose()
			return
		case time.Until(expires) < every/2:
			l.lose() // no time left for another try
			return
		default:
			t.Reset(min(every/3, time.Until(expires)/2))
		}
	}
}

// lose cancels the Context, then closes Lost.
func (l *Lock) lose() {
	l.cancel(ErrLost)
	close(l.lost)
}

// Release gives the lock up: it stops renewing it and deletes its key if
// the key still holds the lock's token, and cancels the lock's Context.
// It fails with ErrNotHeld when the key holds another token or none (the
// lock was lost, or released already), and with the Redis error when
// Redis cannot be reached (the key then expires within the TTL).
func (l *Lock) Release(ctx context.Context) error {
	l.mu.Lock()
	first := !l.released
	l.released = true
	l.mu.Unlock()
	if !first {
		return ErrNotHeld
	}
	close(l.stop)
	<-l.done
	l.cancel(ErrReleased)
	n, err := releaseScript.Run(ctx, l.rdb, l.keys[:1], l.token).Int64()
	switch {
	case err != nil:
		return fmt.Errorf("redislock: release %s: %w", l.key, err)
	case n == 0:
		return ErrNotHeld
	}
	return nil
}

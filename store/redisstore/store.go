package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sundialhq/sundial"
)

// DefaultPrefix is the key prefix of a Config that sets none.
const DefaultPrefix = "sundial:"

// Config configures a Store: URL or Client (one of them), the rest have
// useful zero values.
type Config struct {
	// URL is the server's address, redis://[user:password@]host:port/db
	// or rediss:// for TLS, with go-redis's options as query parameters
	// (dial_timeout=3s, pool_size=20, …). The Store opens a client on it
	// and closes it at Close. Unless the URL sets max_retries, the client
	// does not retry a command itself: a script whose answer was lost is
	// reported to the scheduler, which knows how to retry it safely.
	// Unless it sets protocol, the client speaks RESP2, which costs less
	// per command than go-redis's RESP3.
	URL string
	// Client is a client to use instead of opening one: a *redis.Client,
	// or a cluster or sentinel client. The Store does not close it. On a
	// cluster, put a hash tag in Prefix ("{sundial}:"): the scripts touch
	// many keys at once, and they must share a slot. MaxRetries: -1 and
	// Protocol: 2 are what the Store sets for a client of its own.
	Client redis.UniversalClient
	// Prefix starts every key the Store uses. Empty means DefaultPrefix.
	// Stores sharing a prefix share their jobs and runs.
	Prefix string
	// Logger receives the Store's warnings (a run whose record vanished,
	// a notice subscription that dropped). Nil discards them.
	Logger *slog.Logger
}

// check refuses bad input with a *sundial.FieldError naming the field.
func (c Config) check() error {
	switch {
	case c.URL == "" && c.Client == nil:
		return invalid("url", "missing (a redis:// URL, or set Client)")
	case c.URL != "" && c.Client != nil:
		return invalid("client", "set URL or Client, not both")
	case strings.ContainsAny(c.Prefix, "\x00\r\n"):
		return invalid("prefix", "%q contains a NUL or line break", c.Prefix)
	}
	return nil
}

// client returns the Client, or a new one on the URL (owned: Close
// closes it).
func (c Config) client() (rdb redis.UniversalClient, owned bool, err error) {
	if c.Client != nil {
		return c.Client, false, nil
	}
	opts, err := redis.ParseURL(c.URL)
	if err != nil {
		return nil, false, invalid("url", "%s: %s", redact(c.URL), strings.TrimPrefix(err.Error(), "redis: "))
	}
	if !strings.Contains(c.URL, "max_retries=") {
		opts.MaxRetries = -1
	}
	if !strings.Contains(c.URL, "protocol=") {
		// RESP2: RESP3's push notifications cost a read before every
		// command, and the Store needs none of them.
		opts.Protocol = 2
	}
	opts.ContextTimeoutEnabled = true
	return redis.NewClient(opts), true, nil
}

// redact is a URL without its password, for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the URL"
	}
	return u.Redacted()
}

// Store is a sundial.Store on Redis. It is safe for concurrent use, and
// any number of Stores, in one process or many, may share a prefix: they
// arbitrate through Lua scripts, each of which Redis runs atomically. It
// implements sundial.Notifier and sundial.EventBus over pub/sub,
// sundial.NoticeHealth, sundial.StoreClock and sundial.RunFinisher.
type Store struct {
	rdb      redis.UniversalClient
	owned    bool
	prefix   string
	epoch    string // the generation New found or started
	instance string // this Store among those sharing the prefix
	log      *slog.Logger
	closed   atomic.Bool

	subMu  sync.Mutex
	subs   map[int]func(sundial.Notice)
	evSubs map[int]func([]byte)
	subSeq int
	listen *listener // nil until the first subscriber
}

var (
	_ sundial.Store        = (*Store)(nil)
	_ sundial.Notifier     = (*Store)(nil)
	_ sundial.NoticeHealth = (*Store)(nil)
	_ sundial.RunFinisher  = (*Store)(nil)
	_ sundial.JobAdder     = (*Store)(nil)
	_ sundial.StoreClock   = (*Store)(nil)
	_ sundial.EventBus     = (*Store)(nil)
)

// New connects to Redis and opens the prefix: it finds the prefix's
// epoch key, or writes one when the prefix is empty (a new generation of
// data; see ErrDataLost). It fails with a *sundial.FieldError (matching
// sundial.ErrInvalid) for a bad Config, and with an error naming the
// server when Redis cannot be reached.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	rdb, owned, err := cfg.client()
	if err != nil {
		return nil, err
	}
	s := &Store{rdb: rdb, owned: owned, prefix: cfg.Prefix, instance: randomHex(8), log: cfg.Logger,
		subs: map[int]func(sundial.Notice){}, evSubs: map[int]func([]byte){}}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.epoch, err = epochScript.Run(ctx, rdb, []string{s.prefix + "epoch"}, randomHex(16)).Text()
	if err != nil {
		s.closeClient()
		where := "the client's server"
		if cfg.URL != "" {
			where = redact(cfg.URL)
		}
		return nil, fail(ctx, "open "+where, err)
	}
	return s, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Prefix returns the prefix of the Store's keys.
func (s *Store) Prefix() string { return s.prefix }

// Close stops the Store's subscription and, when New opened the client
// (Config.URL), closes it. Calls after Close fail. Close is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stopListening()
	return s.closeClient()
}

func (s *Store) closeClient() error {
	if !s.owned {
		return nil
	}
	if err := s.rdb.Close(); err != nil {
		return fmt.Errorf("redisstore: close: %s", err)
	}
	return nil
}

// StoreNow returns Redis's clock (TIME), so that the nodes sharing the
// Store agree on the time whatever their own clocks say.
func (s *Store) StoreNow(ctx context.Context) (time.Time, error) {
	t, err := s.rdb.Time(ctx).Result()
	if err != nil {
		return time.Time{}, fail(ctx, "time", err)
	}
	return t.UTC(), nil
}

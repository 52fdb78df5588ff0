package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/store/redisstore"
)

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	for _, tt := range []struct {
		cfg   redisstore.Config
		field string
	}{
		{redisstore.Config{}, "url"},
		{redisstore.Config{URL: "http://example.com/"}, "url"},
		{redisstore.Config{URL: "redis://127.0.0.1:6379/notanumber"}, "url"},
		{redisstore.Config{URL: "redis://127.0.0.1:6379/0", Client: rdb}, "client"},
		{redisstore.Config{URL: "redis://127.0.0.1:6379/0", Prefix: "a\nb"}, "prefix"},
	} {
		s, err := redisstore.New(context.Background(), tt.cfg)
		var fe *sundial.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, sundial.ErrInvalid) {
			t.Errorf("New(%+v) = %v, %v; want a *FieldError on %q", tt.cfg, s, err, tt.field)
		}
	}
}

// TestNewFailsOnUnreachableServer checks that an unreachable server is
// reported by its address, without the URL's password, and without
// go-redis's error types.
func TestNewFailsOnUnreachableServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := redisstore.New(ctx, redisstore.Config{URL: "redis://user:secret@127.0.0.1:1/0?dial_timeout=1s"})
	if err == nil {
		s.Close()
		t.Fatal("New on a closed port succeeded")
	}
	var re redis.Error
	if !strings.HasPrefix(err.Error(), "redisstore: open redis://user:xxxxx@127.0.0.1:1/0") ||
		strings.Contains(err.Error(), "secret") || errors.As(err, &re) || errors.Is(err, sundial.ErrInvalid) {
		t.Errorf("New = %v; want a redisstore error naming the server without its password", err)
	}
}

// TestClientIsUsedNotClosed runs a Store on a client of the caller's,
// which stays open after Close, and checks that Store calls after Close
// fail.
func TestClientIsUsedNotClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := client(t, testenv.RedisURL(t))
	defer rdb.Close()
	s, err := redisstore.New(ctx, redisstore.Config{Client: rdb, Prefix: newPrefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	j := &sundial.Job{ID: "a", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: base}
	if _, err := s.AddJob(ctx, j, sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Errorf("the caller's client after Close: %v", err)
	}
	if _, err := s.GetJob(ctx, "a"); err == nil || !strings.HasPrefix(err.Error(), "redisstore: ") {
		t.Errorf("GetJob after Close = %v; want a redisstore error", err)
	}
}

// TestDefaultPrefix checks that a Store without a prefix keeps its keys
// under DefaultPrefix.
func TestDefaultPrefix(t *testing.T) {
	t.Parallel()
	url := testenv.RedisURL(t)
	rdb := client(t, url)
	defer rdb.Close()
	ctx := context.Background()
	existed, err := rdb.Exists(ctx, "sundial:epoch").Result()
	if err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.New(ctx, redisstore.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if existed == 0 { // New wrote it: nothing else
		defer rdb.Del(ctx, "sundial:epoch")
	}
	if s.Prefix() != "sundial:" {
		t.Errorf("Prefix() = %q", s.Prefix())
	}
	if n, err := rdb.Exists(ctx, "sundial:epoch").Result(); err != nil || n != 1 {
		t.Errorf("sundial:epoch exists = %d, %v; want 1", n, err)
	}
}

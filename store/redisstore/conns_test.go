package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/store/redisstore"
)

// The tests that cut connections name their Stores' connections
// (CLIENT SETNAME) and kill only those, with CLIENT KILL ID from another
// client: other tests share the server.

// named returns the test server's URL with a connection name of its own,
// and the name.
func named(t testing.TB) (url, name string) {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name = "sundialtest-" + hex.EncodeToString(b)
	url = testenv.RedisURL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "client_name=" + name, name
}

// openNamed returns a Store on prefix whose connections carry a name of
// their own, and the name.
func openNamed(t testing.TB, prefix string) (*redisstore.Store, string) {
	t.Helper()
	url, name := named(t)
	s, err := redisstore.New(context.Background(), redisstore.Config{URL: url, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, name
}

// killConns kills the connections named name, of type typ ("normal",
// "pubsub", or "" for both), and returns how many.
func killConns(t testing.TB, name, typ string) int {
	t.Helper()
	rdb := client(t, testenv.RedisURL(t))
	defer rdb.Close()
	ctx := context.Background()
	n := 0
	for _, tp := range []string{"normal", "pubsub"} {
		if typ != "" && typ != tp {
			continue
		}
		list, err := rdb.Do(ctx, "CLIENT", "LIST", "TYPE", tp).Text()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(list, "\n") {
			if id, ok := connID(line, name); ok {
				if err := rdb.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err == nil {
					n++
				}
			}
		}
	}
	return n
}

// connID returns the ID of a CLIENT LIST line whose name is name.
func connID(line, name string) (string, bool) {
	var id string
	named := false
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "id="); ok {
			id = v
		}
		if f == "name="+name {
			named = true
		}
	}
	return id, named && id != ""
}

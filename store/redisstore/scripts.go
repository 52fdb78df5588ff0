package redisstore

import (
	"context"
	"embed"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts, one per atomic step, in lua/. Each but epoch.lua runs
// after lua/common.lua, which checks the prefix's epoch and holds the
// helpers that several scripts share (insert a run under the
// exactly-once rule, end a running run, publish the notices).
//
//go:embed lua/*.lua
var luaFiles embed.FS

var (
	epochScript    = script("epoch", false)
	putJobScript   = script("putjob", true)
	removeScript   = script("removejobs", true)
	getJobsScript  = script("getjobs", true)
	nextFireScript = script("nextfire", true)
	claimJobScript = script("claimjobs", true)
	commitScript   = script("commit", true)
	addRunsScript  = script("addruns", true)
	claimRunScript = script("claimruns", true)
	finishScript   = script("finish", true)
	beatScript     = script("heartbeat", true)
	lostScript     = script("lost", true)
	recoverScript  = script("recover", true)
	pruneScript    = script("prune", true)
	getRunsScript  = script("getruns", true)
)

// script reads lua/name.lua, after lua/common.lua when common. The
// scripts are loaded by hash (EVALSHA), and sent whole only to a server
// that does not know them yet.
func script(name string, common bool) *redis.Script {
	body, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic("redisstore: missing script " + name) // a build without its embedded files
	}
	src := string(body)
	if common {
		head, _ := luaFiles.ReadFile("lua/common.lua")
		src = string(head) + src
	}
	return redis.NewScript(src)
}

// run runs a script on the Store's prefix with args after the three that
// every script takes (prefix, epoch, instance), and translates its error.
func (s *Store) run(ctx context.Context, sc *redis.Script, op string, args ...any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fail(ctx, op, err)
	}
	if s.closed.Load() {
		return nil, &storeError{msg: "redisstore: " + op + ": the store is closed"}
	}
	argv := make([]any, 0, 3+len(args))
	argv = append(argv, s.prefix, s.epoch, s.instance)
	argv = append(argv, args...)
	v, err := sc.Run(ctx, s.rdb, []string{s.prefix + "epoch"}, argv...).Result()
	return v, fail(ctx, op, err)
}

// list reads a script's reply as a list.
func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// str reads a reply element as a string: "" for nil (a missing field).
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

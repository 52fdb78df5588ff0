package clusterbench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// replica is one child process as the parent sees it.
type replica struct {
	node    int
	cmd     *exec.Cmd
	log     string
	declare time.Duration // reported by the child
	ready   chan struct{} // closed when the child reported ready
	done    chan error    // the child's exit
	killed  bool
}

// runReplicas starts the replicas, kills one if cfg says so, waits for
// them and fills res with the merged record's figures.
func runReplicas(ctx context.Context, lib Lib, env *Env, cfg Config, res *Result) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	env.Anchor = time.Now().Add(cfg.Lead).Truncate(time.Second).Add(time.Second)
	p := plan(env, cfg)
	until := p.End.Add(cfg.Drain)
	rs := make([]*replica, cfg.Nodes)
	for i := range rs {
		var profile string
		if cfg.ProfileDir != "" {
			profile = filepath.Join(cfg.ProfileDir, fmt.Sprintf("%s-%d-%s.pprof", lib.Name, cfg.Jobs, nodeName(i)))
		}
		if rs[i], err = startReplica(self, env, i, until, profile); err != nil {
			killAll(rs)
			return err
		}
	}
	defer killAll(rs) // after a failure; harmless after a normal end
	if err := awaitReady(ctx, rs, env.Anchor); err != nil {
		return err
	}
	for _, r := range rs {
		res.Declare = max(res.Declare, r.declare)
	}
	fmt.Fprintf(cfg.Log, "  replicas ready (declaring took up to %v); first fire at %s\n", res.Declare.Round(time.Millisecond), env.Anchor.Format("15:04:05"))
	if cfg.Kill {
		if err := killOne(ctx, lib, env, p, rs, cfg.Log); err != nil {
			return err
		}
	}
	for _, r := range rs {
		if err := <-r.done; err != nil && !r.killed {
			res.ReplicaErrs = append(res.ReplicaErrs, fmt.Sprintf("node-%d: %v: %s", r.node, err, tail(r.log)))
		}
	}
	var execs []Exec
	for i := range rs {
		if execs, err = readRecord(recordPath(env.Dir, i), i, execs); err != nil {
			return err
		}
	}
	res.Figures = Analyze(p, execs)
	return nil
}

func startReplica(self string, env *Env, node int, until time.Time, profile string) (*replica, error) {
	spec, err := json.Marshal(childSpec{Env: *env, Node: nodeName(node), Record: recordPath(env.Dir, node), Until: until, Profile: profile})
	if err != nil {
		return nil, err
	}
	r := &replica{node: node, log: filepath.Join(env.Dir, fmt.Sprintf("node-%d.log", node)), ready: make(chan struct{}), done: make(chan error, 1)}
	logf, err := os.Create(r.log)
	if err != nil {
		return nil, err
	}
	r.cmd = exec.Command(self)
	r.cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	r.cmd.Stderr = logf
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := r.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go r.watch(stdout, logf)
	return r, nil
}

// watch reads the child's standard output for its ready line, copies the
// rest to its log, and reports its exit.
func (r *replica) watch(stdout io.Reader, logf *os.File) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), readyPrefix)
		if !ok {
			fmt.Fprintln(logf, sc.Text())
			continue
		}
		if f := strings.Fields(line); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			r.declare = time.Duration(ns)
		}
		close(r.ready)
	}
	err := r.cmd.Wait()
	logf.Close()
	r.done <- err
}

// awaitReady waits until every replica is ready, and fails when one
// exits first or is not ready half a second before the first fire.
func awaitReady(ctx context.Context, rs []*replica, anchor time.Time) error {
	deadline := time.NewTimer(time.Until(anchor.Add(-500 * time.Millisecond)))
	defer deadline.Stop()
	for _, r := range rs {
		select {
		case <-r.ready:
		case err := <-r.done:
			r.done <- err
			return fmt.Errorf("node-%d exited before it was ready: %v: %s", r.node, err, tail(r.log))
		case <-deadline.C:
			return fmt.Errorf("%w: node-%d was not ready 0.5 s before the first fire", ErrLeadTooShort, r.node)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// ErrLeadTooShort means a replica took longer to declare its jobs than
// the lead allowed; run again with a longer Config.Lead.
var ErrLeadTooShort = errors.New("clusterbench: lead too short")

// killOne SIGKILLs the leader (for Leader libraries) or the last node
// one interval after the steady window.
func killOne(ctx context.Context, lib Lib, env *Env, p *Plan, rs []*replica, log io.Writer) error {
	victim := len(rs) - 1
	if lib.Leader {
		// Ask just before the kill: leadership may have moved.
		time.Sleep(time.Until(p.Kill.Add(-300 * time.Millisecond)))
		name, err := lib.LeaderNode(ctx, env)
		if err != nil {
			return fmt.Errorf("find the leader: %w", err)
		}
		if victim = nodeIndex(name, len(rs)); victim < 0 {
			return fmt.Errorf("the leader is %q, not a replica", name)
		}
	}
	p.Victim, p.VictimLeader = victim, lib.Leader
	time.Sleep(time.Until(p.Kill))
	r := rs[victim]
	r.killed = true
	if err := r.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill node-%d: %w", victim, err)
	}
	fmt.Fprintf(log, "  SIGKILLed node-%d at %s\n", victim, time.Now().Format("15:04:05.000"))
	return nil
}

func nodeIndex(name string, n int) int {
	for i := range n {
		if nodeName(i) == name {
			return i
		}
	}
	return -1
}

// killAll ends the replicas still running (after a failure); killing
// one that has exited does nothing.
func killAll(rs []*replica) {
	for _, r := range rs {
		if r != nil {
			_ = r.cmd.Process.Kill()
		}
	}
}

// tail is the end of a replica's log, for error messages.
func tail(path string) string {
	data, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(data))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

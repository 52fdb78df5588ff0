package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServiceRunsJobsAndShutsDown starts the service on a free port with a
// fast heartbeat, waits for a run to show at /jobs, then cancels the
// context as SIGTERM would and expects a clean stop.
func TestServiceRunsJobsAndShutsDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", addr, "-every", "200ms"}, &out) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no heartbeat run listed in time; log:\n%s", out.String())
		}
		if n := finishedRuns(addr); n > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling a real server over real time
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the service did not stop")
	}
	if !strings.Contains(out.String(), "service_stopped") {
		t.Errorf("no clean stop in the log:\n%s", out.String())
	}
}

func finishedRuns(addr string) int {
	resp, err := http.Get("http://" + addr + "/jobs")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var body struct {
		RecentRuns []struct {
			State string `json:"state"`
		} `json:"recent_runs"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil {
		return 0
	}
	n := 0
	for _, r := range body.RecentRuns {
		if r.State == "succeeded" {
			n++
		}
	}
	return n
}

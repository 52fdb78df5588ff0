package clusterbench

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Recorder is a replica's independent record of the fires its tasks ran:
// one line per execution, "job scheduled started attempt" (times in Unix
// nanoseconds; attempt 0 when the library does not number them), written
// to the file with one write each, so a SIGKILL loses nothing a task
// recorded.
type Recorder struct {
	mu  sync.Mutex
	f   *os.File
	buf []byte
	err error
}

// NewRecorder creates the record file path.
func NewRecorder(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &Recorder{f: f}, nil
}

// Record notes that the task of job's fire scheduled at scheduled began
// now, as the library's attempt-th try (0: the library does not say).
func (r *Recorder) Record(job int, scheduled time.Time, attempt int) {
	started := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	b := strconv.AppendInt(r.buf[:0], int64(job), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, scheduled.UnixNano(), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, started.UnixNano(), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(attempt), 10)
	b = append(b, '\n')
	r.buf = b
	if _, err := r.f.Write(b); err != nil && r.err == nil {
		r.err = err
	}
}

// Close closes the file and returns the first error of any write.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.f.Close(); r.err == nil {
		r.err = err
	}
	return r.err
}

// Exec is one recorded execution of a fire.
type Exec struct {
	Job       int
	Node      int
	Scheduled int64 // Unix ns
	Started   int64 // Unix ns
	Attempt   int   // the library's attempt number; 0 when it does not say
}

// readRecord appends the executions in node's record file to execs. A
// last line cut short by a kill is ignored.
func readRecord(path string, node int, execs []Exec) ([]Exec, error) {
	f, err := os.Open(path)
	if err != nil {
		return execs, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			continue
		}
		job, err1 := strconv.Atoi(fs[0])
		sched, err2 := strconv.ParseInt(fs[1], 10, 64)
		start, err3 := strconv.ParseInt(fs[2], 10, 64)
		attempt, err4 := strconv.Atoi(fs[3])
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return execs, fmt.Errorf("%s: line %q: %v", path, sc.Text(), err)
		}
		execs = append(execs, Exec{Job: job, Node: node, Scheduled: sched, Started: start, Attempt: attempt})
	}
	return execs, sc.Err()
}

package sundial

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
)

// TaskFunc is the code a task runs. The context is cancelled when the run's
// timeout passes, when the job's overlap policy cancels it, when the node
// loses the store, or when Shutdown runs out of patience. A returned error
// (or a panic) fails the run.
type TaskFunc func(ctx context.Context, run *Run) error

// task is a registered task: its function and, for typed tasks, a check
// of a job's arguments.
type task struct {
	fn        TaskFunc
	checkArgs func(json.RawMessage) error
}

// Handle registers fn as the task name, so jobs can name it. It fails with
// a *FieldError when name is empty or fn is nil, and with ErrConflict when
// the name is already registered.
func (s *Scheduler) Handle(name string, fn TaskFunc) error {
	return s.register(name, task{fn: fn})
}

// HandleFunc registers a task whose arguments decode from the job's JSON
// args into a T (strictly: unknown fields are refused). Jobs whose args do
// not decode are refused when added. The run is available through
// RunFromContext.
func HandleFunc[T any](s *Scheduler, name string, fn func(ctx context.Context, args T) error) error {
	if fn == nil {
		return invalid("task", "nil function for task %q", name)
	}
	decode := func(raw json.RawMessage) (T, error) {
		var args T
		if len(raw) == 0 {
			return args, nil
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&args); err != nil {
			return args, &FieldError{Field: "args", Problem: fmt.Sprintf("do not decode into %T: %v", args, err), Err: err}
		}
		return args, nil
	}
	return s.register(name, task{
		fn: func(ctx context.Context, run *Run) error {
			args, err := decode(run.Args)
			if err != nil {
				return err
			}
			return fn(ctx, args)
		},
		checkArgs: func(raw json.RawMessage) error { _, err := decode(raw); return err },
	})
}

func (s *Scheduler) register(name string, t task) error {
	if name == "" {
		return invalid("task", "empty task name")
	}
	if t.fn == nil {
		return invalid("task", "nil function for task %q", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.tasks.Load()
	if _, ok := old[name]; ok {
		return &conflictError{"task " + name + " is already registered"}
	}
	tasks := make(map[string]task, len(old)+1)
	for n, x := range old {
		tasks[n] = x
	}
	tasks[name] = t
	s.tasks.Store(&tasks)
	return nil
}

// taskNamed looks a task up without a lock: every run does, and the
// registry is copied on write (tasks are registered once, at start-up).
func (s *Scheduler) taskNamed(name string) (task, bool) {
	t, ok := (*s.tasks.Load())[name]
	return t, ok
}

type runKeyCtx struct{}

// RunFromContext returns the run a task is executing (its job ID, attempt,
// scheduled time and fencing token), or nil outside a task.
func RunFromContext(ctx context.Context) *Run {
	r, _ := ctx.Value(runKeyCtx{}).(*Run)
	return r
}

// funcName returns a function's qualified name ("main.sendReport"), or ""
// for a closure, whose name the compiler makes up.
func funcName(fn any) string {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return ""
	}
	f := runtime.FuncForPC(v.Pointer())
	if f == nil {
		return ""
	}
	name := f.Name()
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	if strings.Contains(name, ".func") || strings.HasSuffix(name, "-fm") {
		return ""
	}
	return name
}

package sundialtest

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func TestRunTask(t *testing.T) {
	at := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	var got struct{ Team string }
	err := RunTask(context.Background(), func(ctx context.Context, r *sundial.Run) error {
		if r.JobID != "reports" || !r.Scheduled.Equal(at) || r.Attempt != 1 {
			t.Errorf("synthetic run %+v", r)
		}
		return json.Unmarshal(r.Args, &got)
	}, "reports", map[string]string{"Team": "ops"}, at)
	if err != nil || got.Team != "ops" {
		t.Fatalf("RunTask: %v, args %+v", err, got)
	}
	boom := errors.New("boom")
	if err := RunTask(context.Background(), func(context.Context, *sundial.Run) error { return boom }, "j", nil, at); !errors.Is(err, boom) {
		t.Errorf("the task's error was not returned: %v", err)
	}
	if err := RunTask(context.Background(), func(context.Context, *sundial.Run) error { return nil }, "j", math.Inf(1), at); err == nil {
		t.Error("args that do not marshal were accepted")
	}
}

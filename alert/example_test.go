package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/alert"
)

// The example posts to a test server standing in for Slack; a service
// passes its incoming webhook's URL instead.
func Example() {
	texts := make(chan string, 10)
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct{ Text string }
		_ = json.NewDecoder(r.Body).Decode(&msg)
		texts <- msg.Text
	}))
	defer slack.Close()

	ctx := context.Background()
	sched, _ := sundial.New(sundial.Config{NodeID: "web-1"})
	alerter, err := alert.New(alert.Config{
		Destinations: []alert.Destination{alert.Slack{URL: slack.URL}},
		RateLimit:    time.Minute, // at most one message per job a minute
	})
	if err != nil {
		panic(err)
	}
	alerter.Attach(sched)

	_ = sched.Handle("reports.daily", func(ctx context.Context, run *sundial.Run) error {
		return errors.New("warehouse unreachable")
	})
	_, _ = sched.AddJob(ctx, &sundial.Job{ID: "reports.daily", Task: "reports.daily",
		Trigger: sundial.MustCron("0 6 * * *", nil)}, nil)
	_ = sched.Start(ctx)
	_, _ = sched.RunNow(ctx, "reports.daily")

	lines := strings.Split(<-texts, "\n")
	fmt.Println(lines[0])
	fmt.Println(lines[len(lines)-2])

	_, _ = sched.Shutdown(ctx)
	_ = alerter.Close(ctx)
	// Output:
	// Job reports.daily failed
	// error: warehouse unreachable
}

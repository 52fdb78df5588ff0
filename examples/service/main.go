// Command service is a small web service that runs scheduled jobs beside
// its HTTP server, the way a team embeds sundial: the scheduler starts with
// the service and both shut down gracefully on SIGTERM or Ctrl-C (running
// jobs finish first, for up to 30 s).
//
//	go run ./examples/service            # then: curl localhost:8080/jobs
//
// It declares two jobs in code: a heartbeat every 5 seconds and a report at
// 09:00 on weekdays, Seoul time, and lists jobs and recent runs at /jobs.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sundialhq/sundial"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	addr := fs.String("addr", "localhost:8080", "HTTP listen address")
	every := fs.Duration("every", 5*time.Second, "heartbeat job interval")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(out, nil))
	sched, err := sundial.New(sundial.Config{Logger: log})
	if err != nil {
		return err
	}
	if err := declareJobs(ctx, sched, *every, log); err != nil {
		return err
	}
	srv := &http.Server{Addr: *addr, Handler: jobsHandler(sched), ReadHeaderTimeout: 5 * time.Second}
	if err := sched.Start(ctx); err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	log.Info("service_started", "addr", *addr)
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	return shutdown(srv, sched, log, err)
}

// shutdown stops the HTTP server, then the scheduler, giving running jobs
// up to 30 s.
func shutdown(srv *http.Server, sched *sundial.Scheduler, log *slog.Logger, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	httpErr := srv.Shutdown(ctx)
	cut, schedErr := sched.Shutdown(ctx)
	log.Info("service_stopped", "runs_cut_short", len(cut))
	if errors.Is(cause, http.ErrServerClosed) {
		cause = nil
	}
	return errors.Join(cause, httpErr, schedErr)
}

func heartbeat(ctx context.Context, run *sundial.Run) error {
	slog.Default().Info("heartbeat", "scheduled", run.Scheduled.Format(time.RFC3339), "lateness", run.Lateness())
	return nil
}

func weekdayReport(ctx context.Context, run *sundial.Run) error {
	slog.Default().Info("weekday_report", "scheduled", run.Scheduled.Format(time.RFC3339))
	return nil
}

// declareJobs declares the service's jobs in code; on a restart they
// replace themselves instead of piling up.
func declareJobs(ctx context.Context, s *sundial.Scheduler, every time.Duration, log *slog.Logger) error {
	trig, err := sundial.Every(every, nil)
	if err != nil {
		return err
	}
	if _, err := s.Schedule(ctx, heartbeat, trig, &sundial.JobOptions{Tags: []string{"demo"}}); err != nil {
		return err
	}
	report := sundial.MustCron("0 9 * * MON-FRI", &sundial.CronOptions{TimeZone: "Asia/Seoul"})
	if _, err := s.Schedule(ctx, weekdayReport, report, &sundial.JobOptions{Retry: sundial.RetryPolicy{Attempts: 3}}); err != nil {
		return err
	}
	s.Subscribe(sundial.EventJobExecuted|sundial.EventJobError, func(e sundial.Event) {
		log.Info("run_finished", "job", e.JobID, "duration", e.Duration, "err", e.Err)
	})
	return nil
}

// jobsHandler serves the jobs and their last runs as JSON.
func jobsHandler(s *sundial.Scheduler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, r *http.Request) {
		jobs, err := s.ListJobs(r.Context(), sundial.JobFilter{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		runs, err := s.ListRuns(r.Context(), sundial.RunFilter{Limit: 10})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"jobs": jobs, "recent_runs": runs})
	})
	return mux
}

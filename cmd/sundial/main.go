// Command sundial is the sundial command-line tool. Today it answers
// questions about cron expressions:
//
//	sundial cron next [--from RFC3339] [--tz ZONE] [-n N] EXPR
//	sundial cron prev [--from RFC3339] [--tz ZONE] [-n N] EXPR
//	sundial cron explain [--from RFC3339] [--tz ZONE] EXPR
//
// Invalid input exits with status 2 and a one-line error on stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError marks bad input: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode prints err as one line and maps it to an exit status: 0 for
// none, 2 for bad input, 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "sundial: "+oneLine(err.Error()))
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

const usage = `usage: sundial <command> [arguments]

commands:
  cron next      print the next fire times of a cron expression
  cron prev      print the previous fire times of a cron expression
  cron explain   describe a cron expression and show its next fires
`

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	switch args[0] {
	case "cron":
		return runCron(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usagef("unknown command %q (try: sundial help)", args[0])
}

func oneLine(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r == '\n' || r == '\r' {
			out[i] = ' '
		}
	}
	return string(out)
}

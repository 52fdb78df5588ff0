package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// sundial runs the CLI in-process and returns stdout, stderr and the exit
// status main would use.
func sundial(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code = exitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

func TestCronNext(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"cron", "next", "--from", "2024-03-09T00:00:00Z", "--tz", "America/New_York", "-n", "3", "30 2 * * *"},
			"2024-03-09T02:30:00-05:00\n2024-03-10T03:00:00-04:00\n2024-03-11T02:30:00-04:00\n"},
		{[]string{"cron", "next", "--from", "2024-01-01T00:00:00Z", "0 0 * * *"},
			"2024-01-02T00:00:00+00:00\n"},
		{[]string{"cron", "next", "--from=2024-03-10T01:59:00-05:00", "--tz=America/New_York", "-n=2", "*/30 * * * *"},
			"2024-03-10T03:00:00-04:00\n2024-03-10T03:30:00-04:00\n"},
		{[]string{"cron", "next", "0 12 * * *", "--from", "2024-06-01T13:00:00+02:00", "--tz", "Europe/Paris"},
			"2024-06-02T12:00:00+02:00\n"},
		{[]string{"cron", "next", "--from", "2024-11-03T00:00:00-04:00", "--tz", "America/New_York", "-n", "2", "--overlap", "both", "30 1 * * *"},
			"2024-11-03T01:30:00-04:00\n2024-11-03T01:30:00-05:00\n"},
		{[]string{"cron", "next", "--from", "2024-01-01T00:00:00Z", "-n", "2", "0", "0", "29", "2", "*"},
			"2024-02-29T00:00:00+00:00\n2028-02-29T00:00:00+00:00\n"},
		{[]string{"cron", "next", "--from", "2024-01-01T00:00:00Z", "-n", "5", "0 0 0 1 1 * 2025"},
			"2025-01-01T00:00:00+00:00\n"},
	}
	for _, tt := range tests {
		out, errOut, code := sundial(tt.args...)
		if code != 0 || out != tt.want {
			t.Errorf("sundial %q:\n got code %d, out %q, err %q\nwant %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestCronPrev(t *testing.T) {
	out, errOut, code := sundial("cron", "prev", "--from", "2024-06-01T00:00:00Z", "-n", "2", "15 10 * * 5#3")
	want := "2024-05-17T10:15:00+00:00\n2024-04-19T10:15:00+00:00\n"
	if code != 0 || out != want {
		t.Errorf("got code %d, out %q, err %q; want %q", code, out, errOut, want)
	}
}

func TestCronExplain(t *testing.T) {
	out, errOut, code := sundial("cron", "explain", "--from", "2024-03-08T00:00:00Z", "--tz", "America/New_York", "30 2 * * *")
	if code != 0 {
		t.Fatalf("code %d, err %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 {
		t.Fatalf("want a description, a heading and 5 fires, got:\n%s", out)
	}
	if !strings.Contains(lines[0], "02:30") {
		t.Errorf("description %q does not mention 02:30", lines[0])
	}
	if !strings.HasPrefix(strings.TrimSpace(lines[4]), "2024-03-10T03:00:00-04:00") || !strings.Contains(lines[4], "note:") {
		t.Errorf("the gap fire should carry a DST note: %q", lines[4])
	}
	if strings.Contains(lines[3], "note:") || strings.Contains(lines[5], "note:") {
		t.Errorf("ordinary fires should carry no note:\n%s", out)
	}
}

func TestCronBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"cron"}, "missing subcommand"},
		{[]string{"cron", "later", "* * * * *"}, `unknown subcommand "later"`},
		{[]string{"cron", "next"}, "missing cron expression"},
		{[]string{"cron", "next", "61 * * * *"}, `minute field: "61"`},
		{[]string{"cron", "next", "* * * *"}, "cron:"},
		{[]string{"cron", "next", "--tz", "Mars/Base", "* * * * *"}, `unknown time zone "Mars/Base"`},
		{[]string{"cron", "next", "--tz", "", "* * * * *"}, "unknown time zone"},
		{[]string{"cron", "next", "--from", "tomorrow", "* * * * *"}, `--from: "tomorrow"`},
		{[]string{"cron", "next", "-n", "0", "* * * * *"}, "-n: 0 is out of range"},
		{[]string{"cron", "next", "-n", "x", "* * * * *"}, "invalid value"},
		{[]string{"cron", "next", "--bogus", "* * * * *"}, "flag provided but not defined"},
		{[]string{"cron", "next", "--gap", "wide", "* * * * *"}, "--gap"},
		{[]string{"cron", "next", "--overlap", "none", "* * * * *"}, "--overlap"},
		{[]string{"cron", "next", "--day-rule", "xor", "* * * * *"}, "--day-rule"},
		{[]string{"cron", "prev", "0 0 30 2 *"}, "never"},
		{[]string{"cron", "explain", "@every 0s"}, "cron:"},
		{[]string{"cron", "explain", "-n", "3", "* * * * *"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		out, errOut, code := sundial(tt.args...)
		if code != 2 {
			t.Errorf("sundial %q: exit %d, want 2 (stderr %q)", tt.args, code, errOut)
		}
		if out != "" && tt.args != nil {
			t.Errorf("sundial %q: printed %q on stdout", tt.args, out)
		}
		last := strings.TrimRight(errOut, "\n")
		if i := strings.LastIndex(last, "\n"); i >= 0 {
			last = last[i+1:]
		}
		if len(tt.args) > 1 && strings.Count(errOut, "\n") != 1 {
			t.Errorf("sundial %q: stderr %q, want exactly one line", tt.args, errOut)
		}
		if !strings.HasPrefix(last, "sundial: ") || !strings.Contains(last, tt.want) {
			t.Errorf("sundial %q: stderr %q, want one line containing %q", tt.args, errOut, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	out, _, code := sundial("help")
	if code != 0 || !strings.Contains(out, "cron next") {
		t.Errorf("help: code %d, out %q", code, out)
	}
}

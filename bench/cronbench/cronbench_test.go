package cronbench

import (
	"strings"
	"testing"
	"time"
)

func BenchmarkNext(b *testing.B) {
	for _, zone := range Zones {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			b.Fatal(err)
		}
		for _, expr := range Exprs {
			for _, lib := range Libs {
				if f := NextBench(lib, expr, loc); f != nil {
					b.Run("expr="+strings.ReplaceAll(expr, " ", "_")+"/zone="+zone+"/lib="+lib.Name, f)
				}
			}
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, expr := range Exprs {
		for _, lib := range Libs {
			if f := ParseBench(lib, expr); f != nil {
				b.Run("expr="+strings.ReplaceAll(expr, " ", "_")+"/lib="+lib.Name, f)
			}
		}
	}
}

// TestAgreement checks that the libraries compute the same fires as
// sundial for the first 20 fires of each expression, and lists where they
// differ (robfig, for one, skips fires in DST gaps).
func TestAgreement(t *testing.T) {
	for _, d := range Disagreements(20) {
		t.Log(d)
	}
}

func TestToQuartz(t *testing.T) {
	for in, want := range map[string]string{
		"*/5 * * * *":   "0 */5 * * * ?",
		"30 2 * * 1-5":  "0 30 2 ? * 2-6",
		"15 10 * * 5#3": "0 15 10 ? * 6#3",
		"0 12 * * 0,7":  "0 0 12 ? * 1,1",
		"0 0 L * *":     "0 0 0 L * ?",
		"0 30 9 * * *":  "0 30 9 * * ?",
	} {
		if got, err := ToQuartz(in); err != nil || got != want {
			t.Errorf("ToQuartz(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ToQuartz("0 0 13 * 5"); !IsUnsupported(err) {
		t.Errorf("both day fields: %v, want unsupported", err)
	}
}

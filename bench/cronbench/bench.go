package cronbench

import (
	"testing"
	"time"
)

// Sink keeps benchmark results alive.
var Sink time.Time

// NextBench measures one library's Next for expr in loc, asking from a
// fixed spread of instants. It returns nil when the library cannot
// express expr.
func NextBench(lib Lib, expr string, loc *time.Location) func(b *testing.B) {
	next, err := lib.Parse(expr, loc)
	if err != nil {
		return nil
	}
	froms := Times(loc)
	return func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			Sink = next(froms[i&1023])
		}
	}
}

// ParseBench measures one library's parse of expr; nil when it cannot
// express it or has no separate parse.
func ParseBench(lib Lib, expr string) func(b *testing.B) {
	if lib.ParsesPerCall {
		return nil
	}
	if _, err := lib.Parse(expr, time.UTC); err != nil {
		return nil
	}
	return func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := lib.Parse(expr, time.UTC); err != nil {
				b.Fatal(err)
			}
		}
	}
}

package cron

import (
	"testing"
	"time"
)

var benchExprs = []string{
	"*/5 * * * *", "0 0 * * *", "30 2 * * 1-5", "0 0 29 2 *", "0 9-17 * * MON-FRI",
	"0 0 L * *", "15 10 * * 5#3", "0 0 1 1 *", "0 */2 * * *", "0 0 1,15 * *", "0 12 * * SUN", "0 30 9 * * *",
}

var sink time.Time

// benchTimes returns 1024 instants spread over 2024-2025 (DST days
// included), the same for every run.
func benchTimes(loc *time.Location) []time.Time {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Unix()
	out := make([]time.Time, 1024)
	x := uint64(88172645463325252)
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = time.Unix(start+int64(x%(2*365*86400)), 0).In(loc)
	}
	return out
}

func BenchmarkNext(b *testing.B) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	for _, zone := range []*time.Location{time.UTC, ny} {
		for _, expr := range benchExprs {
			s := MustParse(expr, &Options{Location: zone})
			froms := benchTimes(zone)
			b.Run(zone.String()+"/"+expr, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					sink = s.Next(froms[i&1023])
				}
			})
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, expr := range benchExprs {
		b.Run(expr, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Parse(expr, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package cronbench

import (
	"fmt"
	"time"
)

// DSTExprs are checked for agreement only: they fire at wall-clock times
// that New York's DST changes skip or repeat.
var DSTExprs = []string{"30 2 * * *", "30 1 * * *"}

// Disagreements lists, per library, expression and zone, where the first n
// fires after 2024-01-01 differ from sundial's (robfig/cron, for example,
// skips a fire whose wall time a DST gap removes). It starts from the day
// before each New York change too, so DST behaviour shows.
func Disagreements(n int) []string {
	var out []string
	for _, zone := range Zones {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return append(out, err.Error())
		}
		starts := []time.Time{time.Date(2024, 1, 1, 0, 0, 0, 0, loc),
			time.Date(2024, 3, 9, 0, 0, 0, 0, loc), time.Date(2024, 11, 2, 0, 0, 0, 0, loc)}
		for _, expr := range append(Exprs[:len(Exprs):len(Exprs)], DSTExprs...) {
			ref, err := parseSundial(expr, loc)
			if err != nil {
				return append(out, err.Error())
			}
			for _, lib := range Libs[1:] {
				next, err := lib.Parse(expr, loc)
				if err != nil {
					continue
				}
				if d := firstDifference(ref, next, starts, n); d != "" {
					out = append(out, fmt.Sprintf("%s %q in %s: %s", lib.Name, expr, zone, d))
				}
			}
		}
	}
	return out
}

func firstDifference(ref, next Nexter, starts []time.Time, n int) string {
	for _, start := range starts {
		a, b := start, start
		for range n {
			a, b = ref(a), next(b)
			if !a.Equal(b) {
				return fmt.Sprintf("after %s sundial says %s, it says %s",
					start.Format(time.RFC3339), a.Format(time.RFC3339), b.Format(time.RFC3339))
			}
		}
	}
	return ""
}

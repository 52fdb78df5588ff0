package sundial

import "time"

// daysFromCivil returns the number of days from 1970-01-01 to the given
// date. Calendar triggers are not a hot path, so the time package does it.
func daysFromCivil(y int, mo time.Month, d int) int64 {
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (int, time.Month, int) {
	return time.Unix(z*86400, 0).UTC().Date()
}

// daysIn returns the number of days in month mo of year y.
func daysIn(y int, mo time.Month) int {
	return time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

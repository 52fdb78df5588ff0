package sundial

import (
	"testing"
	"time"
)

// dueSet keeps due times rounded up to its grain, each grain once, and
// hands them back earliest first, so a claim whose horizon reaches a
// grain reaches every run kept in it.
func TestDueSet(t *testing.T) {
	base := time.Unix(1_000, 0)
	ms := func(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }
	d := dueSet{grain: 25 * time.Millisecond}
	if !d.first().IsZero() {
		t.Fatal("an empty set has a first time")
	}
	steps := []struct {
		add      time.Time
		earliest bool // add reports it is now the earliest
	}{
		{ms(60), true},   // grain 75
		{ms(70), false},  // grain 75 again: kept once
		{ms(10), true},   // grain 25
		{ms(100), false}, // grain 100
		{ms(26), false},  // grain 50
	}
	for _, s := range steps {
		if got := d.add(s.add); got != s.earliest {
			t.Errorf("add(%v ms) = %v, want %v", s.add.Sub(base).Milliseconds(), got, s.earliest)
		}
	}
	if got := d.first(); !got.Equal(ms(25)) {
		t.Fatalf("first = %v ms, want 25", got.Sub(base).Milliseconds())
	}
	dropped := d.dropThrough(ms(74)) // reaches 25 and 50, not 75
	if len(dropped) != 2 || !dropped[0].Equal(ms(25)) || !dropped[1].Equal(ms(50)) {
		t.Fatalf("dropThrough(74 ms) = %v, want the 25 and 50 ms grains", dropped)
	}
	if got := d.first(); !got.Equal(ms(75)) {
		t.Fatalf("first after the drop = %v ms, want 75", got.Sub(base).Milliseconds())
	}
	if d.add(ms(30)) != true { // a grain dropped may come back
		t.Error("a grain added again after its drop is not the earliest")
	}
	d.dropThrough(ms(1_000))
	if !d.first().IsZero() || len(d.has) != 0 {
		t.Fatalf("after dropping everything: first %v, %d kept", d.first(), len(d.has))
	}
}

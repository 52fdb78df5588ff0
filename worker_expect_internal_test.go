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

// TestRearmReusesARealTimer: on a clock that measures durations, rearm
// resets the timer it is given, which then fires at the new instant and
// not at the old one; on a DeadlineClock it makes a new timer.
func TestRearmReusesARealTimer(t *testing.T) {
	c := SystemClock{}
	first := rearm(c, nil, c.Now().Add(time.Hour))
	first.Stop()
	again := rearm(c, first, c.Now().Add(5*time.Millisecond))
	if again != first {
		t.Fatal("rearm made a new timer on the system clock")
	}
	select {
	case <-again.C():
	case <-time.After(10 * time.Second):
		t.Fatal("the reset timer did not fire")
	}
	again.Stop()
	later := rearm(c, again, c.Now().Add(time.Hour))
	select {
	case <-later.C():
		t.Fatal("a timer reset an hour ahead fired")
	case <-time.After(20 * time.Millisecond):
	}
	later.Stop()

	fake := fakeDeadlineClock{c}
	fresh := rearm(fake, later, c.Now().Add(time.Hour))
	defer fresh.Stop()
	if fresh == later {
		t.Error("rearm reused a timer on a DeadlineClock")
	}
}

type fakeDeadlineClock struct{ SystemClock }

func (f fakeDeadlineClock) NewTimerAt(t time.Time) Timer { return f.NewTimer(time.Until(t)) }

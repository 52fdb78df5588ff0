package sundial

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// heapItem is a value with the index timeHeap keeps for it.
type heapItem struct {
	v   int
	idx int32
}

// TestTimeHeapOrdersAndIndexes drives a heap with random adds, removes
// and pops, and checks after each step that it pops in order and that
// every item's index is where the item is.
func TestTimeHeapOrdersAndIndexes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := timeHeap[*heapItem]{less: func(a, b *heapItem) bool { return a.v < b.v }, index: func(x *heapItem) *int32 { return &x.idx }}
	var in []*heapItem
	check := func(step int) {
		t.Helper()
		if h.Len() != len(in) {
			t.Fatalf("step %d: Len %d, want %d", step, h.Len(), len(in))
		}
		for i, x := range h.items {
			if int(x.idx) != i {
				t.Fatalf("step %d: item %d has index %d", step, i, x.idx)
			}
			if p := (i - 1) / 2; i > 0 && x.v < h.items[p].v {
				t.Fatalf("step %d: item %d (%d) is before its parent (%d)", step, i, x.v, h.items[p].v)
			}
		}
	}
	for step := range 5000 {
		switch op := rng.IntN(10); {
		case op < 5 || len(in) == 0:
			x := &heapItem{v: rng.IntN(100), idx: -1}
			h.add(x)
			in = append(in, x)
		case op < 8:
			k := rng.IntN(len(in))
			x := in[k]
			h.remove(x)
			if x.idx != -1 {
				t.Fatalf("step %d: a removed item has index %d", step, x.idx)
			}
			h.remove(x) // a second remove is a no-op
			in = slices.Delete(in, k, k+1)
		default:
			min := slices.MinFunc(in, func(a, b *heapItem) int { return a.v - b.v })
			if top, _ := h.peek(); top.v != min.v {
				t.Fatalf("step %d: peek %d, want %d", step, top.v, min.v)
			}
			x := h.pop()
			if x.v != min.v || x.idx != -1 {
				t.Fatalf("step %d: pop %d (index %d), want %d (index -1)", step, x.v, x.idx, min.v)
			}
			in = slices.DeleteFunc(in, func(y *heapItem) bool { return y == x })
		}
		check(step)
	}
	for range 5000 { // past the size where add doubles the array
		x := &heapItem{v: rng.IntN(1 << 20), idx: -1}
		h.add(x)
		in = append(in, x)
	}
	check(-1)
	slices.SortFunc(in, func(a, b *heapItem) int { return a.v - b.v })
	for i := range in {
		if x := h.pop(); x.v != in[i].v {
			t.Fatalf("pop %d: %d, want %d", i, x.v, in[i].v)
		}
	}
	if _, ok := h.peek(); ok {
		t.Fatal("peek on an empty heap reports an item")
	}
}

package sundial

import (
	"slices"
	"time"
)

// timeHeap is a min-heap of items ordered by a time, each item knowing its
// index so it can be removed in O(log n). Each entry holds its item's time
// as it was added, so sifting compares entries in the heap's own array,
// not the items they point to: the memory store's heaps pop and push an
// item per fire, and reading two items, each behind a pointer or in a
// table a million jobs long, at every step of a sift was most of what
// they cost. An item's time must not change while it is in the heap.
//
// It sifts items itself rather than through container/heap, whose
// interface boxes every item pushed or popped: an int32 slot of 256 or
// more is then an allocation, two per fire of the due heap.
type timeHeap[T any] struct {
	items []heapEntry[T]
	index func(T) *int32
}

type heapEntry[T any] struct {
	at   heapTime
	item T
}

// heapTime is a time as a heap orders it: seconds, then nanoseconds. The
// monotonic reading, if any, plays no part.
type heapTime struct {
	sec  int64
	nsec int32
}

func heapTimeOf(t time.Time) heapTime { return heapTime{t.Unix(), int32(t.Nanosecond())} }

func (a heapTime) before(b heapTime) bool { return a.sec < b.sec || a.sec == b.sec && a.nsec < b.nsec }

// Len returns how many items the heap holds.
func (h *timeHeap[T]) Len() int { return len(h.items) }

// add pushes x, due at at.
func (h *timeHeap[T]) add(x T, at heapTime) {
	if n := len(h.items); n == cap(h.items) && n >= 256 {
		// Double, where append would grow a large slice by a quarter: a
		// million jobs registered would copy the heap some 60 times,
		// five times its size in all, each copy into fresh pages.
		h.items = slices.Grow(h.items, n)
	}
	h.items = append(h.items, heapEntry[T]{at, x})
	h.up(len(h.items) - 1)
}

// remove takes x out if it is in the heap.
func (h *timeHeap[T]) remove(x T) {
	i := *h.index(x)
	if i < 0 {
		return
	}
	last := len(h.items) - 1
	if int(i) != last {
		h.swap(int(i), last)
	}
	h.items[last] = heapEntry[T]{}
	h.items = h.items[:last]
	*h.index(x) = -1
	if int(i) != last && !h.down(int(i)) {
		h.up(int(i))
	}
}

// peek returns the earliest item.
func (h *timeHeap[T]) peek() (T, bool) {
	if len(h.items) == 0 {
		return *new(T), false
	}
	return h.items[0].item, true
}

// pop removes and returns the earliest item; the heap must not be empty.
func (h *timeHeap[T]) pop() T {
	x := h.items[0].item
	h.remove(x)
	return x
}

func (h *timeHeap[T]) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	*h.index(h.items[i].item) = int32(i)
	*h.index(h.items[j].item) = int32(j)
}

// up moves the item at i towards the root until its parent is not after
// it.
func (h *timeHeap[T]) up(i int) {
	*h.index(h.items[i].item) = int32(i)
	for i > 0 {
		p := (i - 1) / 2
		if !h.items[i].at.before(h.items[p].at) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

// down moves the item at i towards the leaves until no child is before
// it, and reports whether it moved.
func (h *timeHeap[T]) down(i0 int) bool {
	i, n := i0, len(h.items)
	for {
		c := 2*i + 1
		if c >= n || c < 0 {
			break
		}
		if r := c + 1; r < n && h.items[r].at.before(h.items[c].at) {
			c = r
		}
		if !h.items[c].at.before(h.items[i].at) {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > i0
}

package sundial

import "slices"

// timeHeap is a min-heap of items ordered by less (by a time, for every
// use here), each item knowing its index, when the heap has index, so it
// can be removed or fixed in O(log n). A heap without index takes items
// out only at the top (replaceTop).
//
// It sifts items itself rather than through container/heap, whose
// interface boxes every item pushed or popped: an int32 slot of 256 or
// more is then an allocation, two per fire of the due heap.
type timeHeap[T any] struct {
	items []T
	less  func(a, b T) bool
	index func(T) *int32 // nil: items do not keep their index
}

// Len returns how many items the heap holds.
func (h *timeHeap[T]) Len() int { return len(h.items) }

// add pushes x.
func (h *timeHeap[T]) add(x T) {
	if n := len(h.items); n == cap(h.items) && n >= 256 {
		// Double, where append would grow a large slice by a quarter: a
		// million jobs registered would copy the heap some 60 times,
		// five times its size in all, each copy into fresh pages.
		h.items = slices.Grow(h.items, n)
	}
	h.items = append(h.items, x)
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
	h.items[last] = *new(T)
	h.items = h.items[:last]
	*h.index(x) = -1
	if int(i) != last && !h.down(int(i)) {
		h.up(int(i))
	}
}

// peek returns the smallest item.
func (h *timeHeap[T]) peek() (T, bool) {
	if len(h.items) == 0 {
		return *new(T), false
	}
	return h.items[0], true
}

// replaceTop puts x in the place of the smallest item, which it drops,
// and moves x to where it belongs. The heap must not be empty, and has no
// index: the dropped item would keep its own.
func (h *timeHeap[T]) replaceTop(x T) {
	h.items[0] = x
	h.down(0)
}

// pop removes and returns the smallest item; the heap must not be empty.
func (h *timeHeap[T]) pop() T {
	x := h.items[0]
	h.remove(x)
	return x
}

func (h *timeHeap[T]) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	if h.index != nil {
		*h.index(h.items[i]) = int32(i)
		*h.index(h.items[j]) = int32(j)
	}
}

// up moves the item at i towards the root until its parent is not after
// it.
func (h *timeHeap[T]) up(i int) {
	if h.index != nil {
		*h.index(h.items[i]) = int32(i)
	}
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.items[i], h.items[p]) {
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
		if r := c + 1; r < n && h.less(h.items[r], h.items[c]) {
			c = r
		}
		if !h.less(h.items[c], h.items[i]) {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > i0
}

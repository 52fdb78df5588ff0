package sundial

import "container/heap"

// timeHeap is a min-heap of items ordered by less (by a time, for every
// use here), each item knowing its index so it can be removed or fixed in
// O(log n).
type timeHeap[T any] struct {
	items []T
	less  func(a, b T) bool
	index func(T) *int32
}

func (h *timeHeap[T]) Len() int           { return len(h.items) }
func (h *timeHeap[T]) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *timeHeap[T]) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	*h.index(h.items[i]) = int32(i)
	*h.index(h.items[j]) = int32(j)
}

// Push is for container/heap; use add.
func (h *timeHeap[T]) Push(x any) {
	*h.index(x.(T)) = int32(len(h.items))
	h.items = append(h.items, x.(T))
}

// Pop is for container/heap; use remove.
func (h *timeHeap[T]) Pop() any {
	n := len(h.items) - 1
	x := h.items[n]
	var zero T
	h.items[n] = zero
	h.items = h.items[:n]
	*h.index(x) = -1
	return x
}

func (h *timeHeap[T]) add(x T) { heap.Push(h, x) }

// remove takes x out if it is in the heap.
func (h *timeHeap[T]) remove(x T) {
	if i := *h.index(x); i >= 0 {
		heap.Remove(h, int(i))
	}
}

// peek returns the smallest item.
func (h *timeHeap[T]) peek() (T, bool) {
	if len(h.items) == 0 {
		var zero T
		return zero, false
	}
	return h.items[0], true
}

// pop removes and returns the smallest item.
func (h *timeHeap[T]) pop() T { return heap.Pop(h).(T) }

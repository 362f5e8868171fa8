package archive

// freeList keeps up to cap(items) idle values for reuse. sync.Pool drops
// its values at every garbage collection, and with values of megabytes
// (frame buffers, splitters) that made a vicious circle in an export:
// allocations of a few MiB brought the collection on, which emptied the
// pool, which brought the next allocations. Measured on 8,000 messages,
// 1.4 GB of the 1.6 GB allocated were such re-made buffers.
type freeList[T any] struct {
	items chan T
	new   func() T
}

func newFreeList[T any](n int, new func() T) *freeList[T] {
	return &freeList[T]{items: make(chan T, n), new: new}
}

func (l *freeList[T]) get() T {
	select {
	case x := <-l.items:
		return x
	default:
		return l.new()
	}
}

// put keeps x for a later get, unless enough are idle already.
func (l *freeList[T]) put(x T) {
	select {
	case l.items <- x:
	default:
	}
}

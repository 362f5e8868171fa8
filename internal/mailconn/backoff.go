package mailconn

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Default bounds of a Backoff.
const (
	DefaultBackoffMin = 500 * time.Millisecond
	DefaultBackoffMax = 30 * time.Second
)

// Backoff spaces out reconnection attempts: each wait is about twice the
// last, from Min up to Max, plus up to half again of random jitter (never
// beyond Max) so that parallel connections dropped together do not redial
// in lockstep. Reset after a success. The zero value uses the defaults; a
// Backoff is safe for concurrent use.
type Backoff struct {
	Min time.Duration // first wait; DefaultBackoffMin if zero
	Max time.Duration // longest wait; DefaultBackoffMax if zero

	mu   sync.Mutex
	next time.Duration // base of the next wait; 0 means Min
}

func (b *Backoff) bounds() (lo, hi time.Duration) {
	lo, hi = b.Min, b.Max
	if lo <= 0 {
		lo = DefaultBackoffMin
	}
	if hi <= 0 {
		hi = DefaultBackoffMax
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// Next returns how long the next wait is and advances the backoff. Every
// value lies within [Min, Max].
func (b *Backoff) Next() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	lo, hi := b.bounds()
	base := b.next
	if base < lo {
		base = lo
	}
	b.next = min(base*2, hi)
	d := base + rand.N(base/2+1)
	return min(d, hi)
}

// Wait sleeps for Next, or returns ctx's cause (context.Cause) if ctx
// ends first, so that a caller passing it on says why it stopped.
func (b *Backoff) Wait(ctx context.Context) error { return Sleep(ctx, b.Next()) }

// Sleep waits d, or returns ctx's cause if ctx ends first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Reset starts over from Min, after a success.
func (b *Backoff) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next = 0
}

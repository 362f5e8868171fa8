package mailconn

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	tests := []struct {
		name     string
		b        *Backoff
		min, max time.Duration
	}{
		{"defaults", &Backoff{}, DefaultBackoffMin, DefaultBackoffMax},
		{"custom", &Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}, 10 * time.Millisecond, 100 * time.Millisecond},
		{"max below min", &Backoff{Min: time.Second, Max: time.Millisecond}, time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Repeat so that jitter gets a chance to break a bound.
			for round := 0; round < 50; round++ {
				tt.b.Reset()
				for i := 0; i < 20; i++ {
					// Without jitter the wait would be min·2^i, capped;
					// jitter adds up to half of that, capped too.
					base := min(tt.min<<i, tt.max)
					hi := min(base+base/2, tt.max)
					if d := tt.b.Next(); d < base || d > hi {
						t.Fatalf("wait %d = %v, want within [%v, %v]", i, d, base, hi)
					}
				}
			}
		})
	}
}

func TestBackoffReset(t *testing.T) {
	b := &Backoff{Min: 10 * time.Millisecond, Max: time.Second}
	for range 10 {
		b.Next()
	}
	b.Reset()
	if d := b.Next(); d < 10*time.Millisecond || d > 15*time.Millisecond {
		t.Errorf("first wait after Reset = %v, want 10ms to 15ms", d)
	}
}

func TestBackoffWait(t *testing.T) {
	b := &Backoff{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}
	start := time.Now()
	if err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Errorf("Wait took %v, want at least 20ms", el)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b = &Backoff{Min: time.Hour}
	if err := b.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on cancelled context = %v, want context.Canceled", err)
	}
}

package mailconn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

// These tests measure real time with wide margins: they check that the
// limit is applied and shared, not its precision.

func TestThrottleMessages(t *testing.T) {
	tests := []struct {
		name       string
		rate       float64
		goroutines int
		perG       int
		atLeast    time.Duration
	}{
		// The first message goes at once, the next 19 at 10 ms each.
		{"one goroutine", 100, 1, 20, 150 * time.Millisecond},
		// Shared: 4×5 messages take as long as 20 from one goroutine.
		{"shared by four", 100, 4, 5, 150 * time.Millisecond},
		{"unlimited", 0, 1, 1000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := NewThrottle(tt.rate, 0)
			start := time.Now()
			var wg sync.WaitGroup
			for range tt.goroutines {
				wg.Go(func() {
					for range tt.perG {
						if err := th.WaitMessage(context.Background()); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			if el < tt.atLeast || el > tt.atLeast*5+time.Second {
				t.Errorf("took %v, want about %v", el, tt.atLeast)
			}
		})
	}
}

func TestThrottleReader(t *testing.T) {
	tests := []struct {
		name       string
		rate       int64
		size       int
		goroutines int
		atLeast    time.Duration
	}{
		// Burst is a tenth of the rate: 10 kB go at once, 30 kB at 100 kB/s.
		{"one reader", 100_000, 40_000, 1, 250 * time.Millisecond},
		{"shared by two", 100_000, 20_000, 2, 250 * time.Millisecond},
		{"unlimited", 0, 1 << 16, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := NewThrottle(0, tt.rate)
			data := bytes.Repeat([]byte("x"), tt.size)
			start := time.Now()
			var wg sync.WaitGroup
			for range tt.goroutines {
				wg.Go(func() {
					got, err := io.ReadAll(th.Reader(context.Background(), bytes.NewReader(data)))
					if err != nil || !bytes.Equal(got, data) {
						t.Errorf("read %d bytes, %v; want %d", len(got), err, len(data))
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			if el < tt.atLeast || el > tt.atLeast*5+time.Second {
				t.Errorf("took %v, want about %v", el, tt.atLeast)
			}
		})
	}
}

func TestThrottleReaderCancel(t *testing.T) {
	th := NewThrottle(0, 10) // 10 B/s: 1 byte bursts, the second waits
	ctx, cancel := context.WithCancel(context.Background())
	r := th.Reader(ctx, bytes.NewReader(make([]byte, 100)))
	buf := make([]byte, 100)
	if n, err := r.Read(buf); n != 1 || err != nil {
		t.Fatalf("first Read = %d, %v; want 1 byte", n, err)
	}
	cancel()
	if _, err := r.Read(buf); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel = %v, want context.Canceled", err)
	}
}

func TestThrottleNil(t *testing.T) {
	var th *Throttle
	if err := th.WaitMessage(context.Background()); err != nil {
		t.Error(err)
	}
	r := bytes.NewReader(nil)
	if th.Reader(context.Background(), r) != io.Reader(r) {
		t.Error("nil Throttle wrapped the reader")
	}
}

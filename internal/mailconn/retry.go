package mailconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Retry calls fn until it succeeds, returns an error that is not a
// connection error (see IsConnectionError), or has been called maxAttempts
// times (no limit if maxAttempts <= 0: then only ctx ends it). Between
// attempts it waits on b (a fresh Backoff if nil), and resets b after a
// success. fn is expected to redial as needed, typically through a Dialer.
func Retry(ctx context.Context, b *Backoff, maxAttempts int, fn func() error) error {
	if b == nil {
		b = &Backoff{}
	}
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			b.Reset()
			return nil
		}
		if !IsConnectionError(err) {
			return err
		}
		if maxAttempts > 0 && attempt >= maxAttempts {
			return fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		slog.DebugContext(ctx, "connection failed; retrying", "attempt", attempt, "err", err)
		if werr := b.Wait(ctx); werr != nil {
			return errors.Join(werr, err)
		}
	}
}

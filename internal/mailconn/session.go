package mailconn

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// Session is one IMAP connection that is dialled when first needed and
// again after it drops, with backoff. go-imap has no reconnect of its own;
// export and import both work through this.
type Session struct {
	Dial    func(ctx context.Context) (*imapclient.Client, error)
	Retries int // reconnects allowed for one piece of work
	// Selected is the folder the caller has selected on the connection;
	// it is cleared whenever the connection is replaced.
	Selected string

	// Throttled counts the answers that asked to slow down (Office 365's
	// "Request is throttled"), ThrottleWait the time waited for them.
	Throttled    int
	ThrottleWait time.Duration

	c       *imapclient.Client
	backoff Backoff
}

// Do runs fn on the connection, redialling and running fn again when the
// connection drops (IsConnectionError); fn must be safe to repeat. Other
// errors are returned as they are.
func (s *Session) Do(ctx context.Context, fn func(*imapclient.Client) error) error {
	return s.DoN(ctx, s.Retries, fn)
}

// maxSilences is how many times a server may go silent (Options.Timeout)
// within one piece of work before its retries give up: every silence costs
// the whole timeout, so retrying as often as after a dropped connection
// would turn a stalled server into minutes of waiting.
const maxSilences = 2

// SilenceBudget bounds the silences a retry loop sits through: Session
// uses one per Do, and a loop of its own (POP3) should too. The zero value
// is ready.
type SilenceBudget struct{ n int }

// Exhausted counts err, a failure about to be retried, and reports whether
// the retries should end instead: at the second silence of the server
// (IsSilence). Other failures are not counted.
func (b *SilenceBudget) Exhausted(err error) bool {
	if !IsSilence(err) {
		return false
	}
	b.n++
	return b.n >= maxSilences
}

// DoN is Do with its own number of reconnects.
func (s *Session) DoN(ctx context.Context, retries int, fn func(*imapclient.Client) error) error {
	var err error
	var silences SilenceBudget
	for attempt := 0; attempt <= retries; attempt++ {
		if silences.Exhausted(err) {
			return fmt.Errorf("gave up after the server went silent %d times: %w", maxSilences, err)
		}
		if attempt > 0 {
			if s.backoff.Wait(ctx) != nil {
				return context.Cause(ctx)
			}
		}
		if s.c != nil && ClientClosed(s.c) {
			// It died while unused (the server's autologout, a
			// timeout): replace it before use, which costs neither a
			// reconnect of the work's nor a backoff.
			s.Drop()
		}
		if s.c == nil {
			if s.c, err = s.Dial(ctx); err != nil {
				s.c = nil
				if ctx.Err() != nil || !IsConnectionError(err) {
					return err
				}
				continue
			}
			s.Selected = ""
		}
		err = fn(s.c)
		if d := ThrottleWait(err); d > 0 && s.ThrottleWait+d <= MaxThrottleWait {
			// Obeyed, on a fresh connection, and not counted against
			// the reconnects.
			slog.Warn("the server asked to slow down; waiting", "wait", d)
			s.Throttled++
			s.ThrottleWait += d
			s.Drop()
			if err := Sleep(ctx, d); err != nil {
				return err
			}
			attempt--
			continue
		}
		if err != nil && ctx.Err() != nil {
			// The connection was closed because ctx ended (Ctrl-C):
			// say that, not what closing it did to fn.
			s.Drop()
			return context.Cause(ctx)
		}
		if err == nil || !IsConnectionError(err) {
			if err == nil {
				s.backoff.Reset()
			}
			return err
		}
		s.Drop()
	}
	return fmt.Errorf("gave up after %d reconnects: %w", retries, err)
}

// Drop closes the connection without a goodbye; the next Do redials.
func (s *Session) Drop() {
	if s.c != nil {
		s.c.Close()
		s.c = nil
	}
	s.Selected = ""
}

// Close logs out and closes the connection.
func (s *Session) Close() {
	if s.c != nil {
		s.c.Logout().Wait()
		s.c.Close()
		s.c = nil
	}
}

package mailconn

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Redial is the one reconnect loop: it holds a connection of type C,
// dialled when first needed and again, with backoff, after it drops.
// Session (IMAP) and export's POP3 session are built on it. The zero value
// is ready.
type Redial[C io.Closer] struct {
	c       C
	live    bool // c is open
	dialled bool // a connection was made before, so the next is a redial
	backoff Backoff
}

// Link says how a Redial reaches its server; only Dial is required.
type Link[C io.Closer] struct {
	Dial func(ctx context.Context) (C, error)
	// Dead reports a connection that died while unused (a server's
	// autologout): it is replaced before use, which costs neither a
	// reconnect nor a backoff.
	Dead func(C) bool
	// Dialled runs on each new connection before fn does; redial says an
	// earlier connection existed (POP3 message numbers change with the
	// session). An error fails the connection as a failed dial would.
	Dialled func(ctx context.Context, c C, redial bool) error
	// Obey is offered the wait a throttled answer asks for (ThrottleWait)
	// and says whether to wait it, on a fresh connection and without
	// counting a reconnect, or to return the answer as an error.
	Obey func(wait time.Duration) bool
}

// maxSilences is how many times a server may go silent (Options.Timeout)
// within one piece of work before its retries give up: every silence costs
// the whole timeout, so retrying as often as after a dropped connection
// would turn a stalled server into minutes of waiting.
const maxSilences = 2

// SilenceBudget bounds the silences a retry loop sits through: Redial uses
// one per Do, and a loop of its own (the importer's APPENDs) should too.
// The zero value is ready.
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

// Do runs fn on the connection, dialling it over l first if need be, and
// after a connection error (IsConnectionError) redials and runs fn again,
// up to retries times; fn must be safe to repeat, and may Drop a
// connection it can no longer trust. Other errors are returned as they
// are; once ctx has ended, its cause is.
func (r *Redial[C]) Do(ctx context.Context, l Link[C], retries int, fn func(C) error) error {
	var err error
	var silences SilenceBudget
	for attempt := 0; attempt <= retries; attempt++ {
		if silences.Exhausted(err) {
			return fmt.Errorf("gave up after the server went silent %d times: %w", maxSilences, err)
		}
		if attempt > 0 && r.backoff.Wait(ctx) != nil {
			return context.Cause(ctx)
		}
		if r.live && l.Dead != nil && l.Dead(r.c) {
			r.Drop()
		}
		if !r.live {
			if err = r.dial(ctx, l); err != nil {
				if ctx.Err() != nil || !IsConnectionError(err) {
					return err
				}
				continue
			}
		}
		err = fn(r.c)
		if d := ThrottleWait(err); d > 0 && l.Obey != nil && l.Obey(d) {
			slog.Warn("the server asked to slow down; waiting", "wait", d)
			r.Drop()
			if err := Sleep(ctx, d); err != nil {
				return err
			}
			attempt--
			continue
		}
		if err != nil && ctx.Err() != nil {
			// The connection was closed because ctx ended (Ctrl-C):
			// say that, not what closing it did to fn.
			r.Drop()
			return context.Cause(ctx)
		}
		if err == nil || !IsConnectionError(err) {
			if err == nil {
				r.backoff.Reset()
			}
			return err
		}
		slog.Warn("connection lost; redialling", "error", err)
		r.Drop()
	}
	return fmt.Errorf("gave up after %d reconnects: %w", retries, err)
}

// dial makes a new connection and runs l.Dialled on it.
func (r *Redial[C]) dial(ctx context.Context, l Link[C]) error {
	c, err := l.Dial(ctx)
	if err != nil {
		return err
	}
	if l.Dialled != nil {
		if err := l.Dialled(ctx, c, r.dialled); err != nil {
			c.Close()
			return err
		}
	}
	r.c, r.live, r.dialled = c, true, true
	return nil
}

// Conn returns the connection, if one is open.
func (r *Redial[C]) Conn() (C, bool) { return r.c, r.live }

// Drop closes the connection without a goodbye; the next Do redials.
func (r *Redial[C]) Drop() {
	if r.live {
		r.c.Close()
	}
	r.c, r.live = *new(C), false
}

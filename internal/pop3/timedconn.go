package pop3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// longAgo is a deadline in the past: it makes blocked and future I/O on a
// connection fail at once.
var longAgo = time.Unix(1, 0)

// timedConn arms a fresh deadline before every Read and Write. The timeout
// therefore limits how long the server may stay silent, not how long a whole
// answer may take: a 50 MB RETR on a slow link must not fail while bytes keep
// coming. The deadline of the running command's context caps it, and
// cancelling that context cuts a blocked call short.
type timedConn struct {
	net.Conn
	timeout time.Duration // 0: no limit besides the context

	mu   sync.Mutex // orders arm against the cancel callback
	ctx  context.Context
	stop func() bool
}

// watch ties I/O to ctx until unwatch: reads and writes end with an error
// once ctx is done.
func (t *timedConn) watch(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ctx = ctx
	// The callback takes mu too, so an arm racing with the cancellation
	// either runs first (and its deadline is overridden) or after (and sees
	// ctx.Err).
	t.stop = context.AfterFunc(ctx, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.Conn.SetDeadline(longAgo)
	})
}

// unwatch ends the tie made by watch.
func (t *timedConn) unwatch() {
	t.mu.Lock()
	stop := t.stop
	t.ctx, t.stop = nil, nil
	t.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// cause returns the error of the watched context if it is done, or is
// about to be: a read cut by the context's deadline can return before the
// context's own timer has fired.
func (t *timedConn) cause() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx == nil {
		return nil
	}
	if t.ctx.Err() != nil {
		// The cause, so that a caller's reason to stop (Ctrl-C) reaches
		// the error.
		return context.Cause(t.ctx)
	}
	if d, ok := t.ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// arm sets the read or write deadline for the next call.
func (t *timedConn) arm(read bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var deadline time.Time
	if t.timeout > 0 {
		deadline = time.Now().Add(t.timeout)
	}
	if t.ctx != nil {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		if d, ok := t.ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
			deadline = d
		}
	}
	// A failure to set the deadline is left for the Read or Write to
	// report: it comes from a connection already closed (net.Pipe says so
	// even when only the peer closed it), and the call says what happened
	// more precisely, such as io.EOF.
	if read {
		t.Conn.SetReadDeadline(deadline)
	} else {
		t.Conn.SetWriteDeadline(deadline)
	}
	return nil
}

func (t *timedConn) Read(p []byte) (int, error) {
	if err := t.arm(true); err != nil {
		return 0, err
	}
	n, err := t.Conn.Read(p)
	return n, t.silence(err)
}

func (t *timedConn) Write(p []byte) (int, error) {
	if err := t.arm(false); err != nil {
		return 0, err
	}
	n, err := t.Conn.Write(p)
	return n, t.silence(err)
}

// silence names a timeout that the server's silence caused, rather than
// the context's deadline, so that the error says what happened.
func (t *timedConn) silence(err error) error {
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() || t.timeout <= 0 || t.cause() != nil {
		return err
	}
	return &SilenceError{Silence: t.timeout, Err: err}
}

// SilenceError is the error of a read or write that the server left
// waiting for longer than WithTimeout allows. It is a net.Error whose
// Timeout is true.
type SilenceError struct {
	Silence time.Duration // the timeout that ran out
	Err     error
}

func (e *SilenceError) Error() string {
	return fmt.Sprintf("server silent for %v: %v", e.Silence, e.Err)
}
func (e *SilenceError) Unwrap() error   { return e.Err }
func (e *SilenceError) Timeout() bool   { return true }
func (e *SilenceError) Temporary() bool { return true }

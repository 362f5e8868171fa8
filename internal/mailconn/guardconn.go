package mailconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailferry/mailferry/internal/pop3"
)

// silenceError is the error of a read or write that the server left
// waiting for longer than Options.Timeout.
type silenceError struct {
	timeout time.Duration
	err     error
}

// silenceText starts every silenceError's text; go-imap passes errors on
// as text only, so isSilence looks for it there too.
const silenceText = "server silent for "

func (e *silenceError) Error() string {
	return fmt.Sprintf("%s%v (--timeout): %v", silenceText, e.timeout, e.err)
}
func (e *silenceError) Unwrap() error   { return e.err }
func (e *silenceError) Timeout() bool   { return true }
func (e *silenceError) Temporary() bool { return true }

// IsSilence reports whether err is a server's silence beyond
// Options.Timeout, on an IMAP or POP3 connection. Such a failure is a
// connection error, but each costs the whole timeout: retry it once or
// twice, not as often as a dropped connection (Session gives up after
// maxSilences).
func IsSilence(err error) bool {
	var se *silenceError
	var pe *pop3.SilenceError
	return errors.As(err, &se) || errors.As(err, &pe) || (err != nil && strings.Contains(err.Error(), silenceText))
}

// idleTimeout bounds a read while no answer is owed: RFC 3501 has servers
// wait at least 30 minutes before they log an idle client out.
const idleTimeout = 30 * time.Minute

// timedConn gives each Read and each Write its own deadline, so that a
// server gone silent, or no longer reading, fails the call after timeout
// while a long transfer that keeps moving never does. It sits on the TCP
// connection, below TLS.
//
// go-imap reads all the time, also while nothing is asked; a connection
// that sits unused while others work must not die of that. Where owed is
// set, reads get the timeout only while the server owes an answer (a
// greeting, a tagged response: see answerTracker), and idleTimeout
// otherwise.
type timedConn struct {
	net.Conn
	timeout time.Duration
	owed    *atomic.Int64 // answers owed; nil: always owed
}

func (c timedConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.readTimeout()))
	n, err := c.Conn.Read(p)
	return n, c.silence(err)
}

func (c timedConn) readTimeout() time.Duration {
	if c.owed != nil && c.owed.Load() <= 0 {
		return max(c.timeout, idleTimeout)
	}
	return c.timeout
}

// asked notes a command sent: its answer is owed from now, also to a read
// already waiting.
func (c timedConn) asked() {
	if c.owed.Add(1) == 1 {
		c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	}
}

// answered notes an answer received.
func (c timedConn) answered() { c.owed.Add(-1) }

func (c timedConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	n, err := c.Conn.Write(p)
	return n, c.silence(err)
}

func (c timedConn) silence(err error) error {
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		return &silenceError{c.readTimeout(), err}
	}
	return err
}

// guardedConn is the connection handed to go-imap. It checks what the
// server sends (responseGuard), closes the connection when the context of
// the Dial that made it ends, and ignores go-imap's own deadlines: beta.8
// allows 30 s per response and 5 minutes per whole literal, which would cut
// a large message on a slow link, while the timedConn below bounds silence
// alone.
type guardedConn struct {
	net.Conn // TLS over a timedConn, or the timedConn
	guard    *responseGuard
	commands commandTracker
	raw      timedConn
	stop     func() bool // ends the watch of the Dial's context

	mu  sync.Mutex
	err error // why the connection died: a broken limit, a silence
}

// guardConn wraps conn, raw or TLS over raw, for go-imap and ties it to
// life: when life ends, conn is closed, so that a blocked read returns at
// once. The answers owed on raw are counted from here on.
func guardConn(life context.Context, conn net.Conn, raw timedConn) *guardedConn {
	g := &guardedConn{Conn: conn, guard: newResponseGuard(), raw: raw}
	if raw.owed != nil {
		g.guard.answered = raw.answered
	}
	g.stop = context.AfterFunc(life, func() { conn.Close() })
	return g
}

func (g *guardedConn) Read(p []byte) (int, error) {
	if err := g.fatal(); err != nil {
		return 0, err
	}
	n, err := g.Conn.Read(p)
	if n > 0 {
		if gerr := g.guard.see(p[:n]); gerr != nil {
			return 0, g.die(gerr)
		}
	}
	if IsSilence(err) {
		return n, g.die(err)
	}
	return n, err
}

// Write fails with the reason the connection died, if it did: go-imap
// reports a command written after its reader stopped with the write's own
// error ("use of closed network connection"), which would hide the
// silence or the limit from the caller.
func (g *guardedConn) Write(p []byte) (int, error) {
	if err := g.fatal(); err != nil {
		return 0, err
	}
	if g.raw.owed != nil {
		g.commands.see(p, g.raw.asked)
	}
	return g.Conn.Write(p)
}

// die records err as the reason the connection is unusable, and closes it.
func (g *guardedConn) die(err error) error {
	g.mu.Lock()
	if g.err == nil {
		g.err = err
	}
	err = g.err
	g.mu.Unlock()
	g.Conn.Close()
	return err
}

// fatal returns why the connection died, if it did: a broken limit or
// the server's silence.
func (g *guardedConn) fatal() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

func (g *guardedConn) Close() error {
	g.stop()
	return g.Conn.Close()
}

func (g *guardedConn) SetDeadline(time.Time) error      { return nil }
func (g *guardedConn) SetReadDeadline(time.Time) error  { return nil }
func (g *guardedConn) SetWriteDeadline(time.Time) error { return nil }

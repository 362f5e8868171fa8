package mailconn

import (
	"context"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// Session is one IMAP connection that is dialled when first needed and
// again after it drops, with backoff (Redial). go-imap has no reconnect of
// its own; export and import both work through this.
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

	conn Redial[*imapclient.Client]
}

// Do runs fn on the connection, redialling and running fn again when the
// connection drops (IsConnectionError); fn must be safe to repeat. Other
// errors are returned as they are.
func (s *Session) Do(ctx context.Context, fn func(*imapclient.Client) error) error {
	return s.DoN(ctx, s.Retries, fn)
}

// DoN is Do with its own number of reconnects.
func (s *Session) DoN(ctx context.Context, retries int, fn func(*imapclient.Client) error) error {
	l := Link[*imapclient.Client]{Dial: s.Dial, Dead: ClientClosed, Dialled: s.dialled, Obey: s.obey}
	return s.conn.Do(ctx, l, retries, fn)
}

func (s *Session) dialled(context.Context, *imapclient.Client, bool) error {
	s.Selected = ""
	return nil
}

// obey waits as a throttled answer asks within MaxThrottleWait for the
// session, beyond which the answer is an error.
func (s *Session) obey(d time.Duration) bool {
	if s.ThrottleWait+d > MaxThrottleWait {
		return false
	}
	s.Throttled++
	s.ThrottleWait += d
	return true
}

// Drop closes the connection without a goodbye; the next Do redials.
func (s *Session) Drop() {
	s.conn.Drop()
	s.Selected = ""
}

// Close logs out and closes the connection.
func (s *Session) Close() {
	if c, ok := s.conn.Conn(); ok {
		c.Logout().Wait()
	}
	s.conn.Drop()
}

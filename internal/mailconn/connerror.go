package mailconn

import (
	"context"
	"crypto/tls"
	"errors"
	"github.com/mailferry/mailferry/internal/pop3"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// lostError marks an error that means the connection is gone although
// nothing in its chain says so by type.
type lostError struct{ err error }

func (e *lostError) Error() string { return e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// imapclientLostPrefixes start the errors imapclient (v2.0.0-beta.8) gives
// every pending command after its reading goroutine stopped: a read error
// or a response it cannot parse (an unknown untagged response, X-GM-LABELS,
// a bad BODYSTRUCTURE). They are formatted with %v, so the cause (a reset,
// a timeout) is only text; the connection is closed in all cases.
var imapclientLostPrefixes = []string{
	"in response",       // "in response: cannot read tag: ...", "in response-data: ...", "in response-tagged: ..."
	"in continue-req",   // a bad continuation request
	"imapclient: panic", // "imapclient: panic reading response: ..."
	"got error before greeting",
	"connection closed before greeting",
}

// IsConnectionError reports whether err means the connection is lost or
// could not be made for a reason that may pass (reset, EOF, timeout, refused,
// BYE, a response imapclient could not parse), so that redialling and
// retrying makes sense. It returns false for a command's own failure (a
// tagged NO or BAD: the connection is fine), for a cancelled context, for
// authentication and certificate failures, and for errors it does not know.
//
// imapclient reports a dead connection in several ways: io.ErrUnexpectedEOF
// when the server closed it (also after an untagged BYE, which imapclient
// otherwise ignores), a *net.OpError for commands written after that, text
// errors (see above) when its reader failed, and a BYE *imap.Error from
// WaitGreeting. Where the client is at hand, ClientClosed is the surer test.
// It also knows internal/pop3's errors, so both protocols retry alike.
func IsConnectionError(err error) bool {
	if err == nil {
		return false
	}
	// The caller stopped; retrying would defy it.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	// A first dial that failed, a server that is not what the URL says,
	// one that broke a limit: trying again would meet the same.
	var dialErr *DialError
	if errors.As(err, &dialErr) && dialErr.Final {
		return false
	}
	if errors.Is(err, ErrWrongProtocol) || errors.Is(err, pop3.ErrIMAPGreeting) || errors.Is(err, pop3.ErrLimit) || errors.Is(err, ErrServerLimit) {
		return false
	}
	var imapErr *imap.Error
	if errors.As(err, &imapErr) {
		return imapErr.Type == imap.StatusResponseTypeBye
	}
	var lost *lostError
	if errors.As(err, &lost) {
		return true
	}
	if IsCertificateError(err) || errors.Is(err, ErrPlaintextRefused) || errors.Is(err, ErrNoPassword) {
		return false
	}
	var (
		recordErr tls.RecordHeaderError // not TLS at all: wrong port
		alertErr  tls.AlertError        // the server refused our TLS
	)
	if errors.As(err, &recordErr) || errors.As(err, &alertErr) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		// A misspelt host stays misspelt; a failing resolver may recover.
		return !dnsErr.IsNotFound
	}
	// The POP3 client marks its own dead connections (after the checks
	// above: it also wraps a failed TLS handshake that way).
	if pop3.IsConnectionError(err) {
		return true
	}
	for _, target := range []error{
		io.EOF, io.ErrUnexpectedEOF, io.ErrClosedPipe, net.ErrClosed,
		syscall.ECONNRESET, syscall.ECONNABORTED, syscall.ECONNREFUSED,
		syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// Last, imapclient's text errors; they may sit inside our own wrapping.
	for e := err; e != nil; e = errors.Unwrap(e) {
		msg := e.Error()
		if strings.Contains(msg, ErrServerLimit.Error()) {
			// go-imap passed our guard's error on as text.
			return false
		}
		for _, p := range imapclientLostPrefixes {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
	}
	return false
}

// ClientClosed reports, without blocking, whether c's connection is closed:
// after an error, it tells a dead connection from a NO with certainty. It
// may lag a connection that timed out but has not been noticed yet.
func ClientClosed(c *imapclient.Client) bool {
	select {
	case <-c.Closed():
		return true
	default:
		return false
	}
}

package pop3

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// Error is a -ERR answer: the server refused a command on a connection that
// still works, so the caller may go on with other commands.
type Error struct {
	// Command is the command as sent, with any secret replaced by "***"
	// ("PASS ***", "APOP alice ***", "AUTH PLAIN ***"); "greeting from
	// HOST:PORT" for a server that refuses the session.
	Command string
	// Code is the RFC 2449 response code without brackets ("IN-USE",
	// "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM", "AUTH"), or empty.
	Code string
	// Text is what the server said after -ERR, response code included.
	Text string
}

func (e *Error) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("pop3: %s: server answered -ERR", e.Command)
	}
	return fmt.Sprintf("pop3: %s: server answered -ERR %s", e.Command, e.Text)
}

// ErrNoUIDL is matched (errors.Is) by the error of UIDL when the server
// refuses the command, as servers without the optional UIDL do. The caller
// can then identify messages by a hash of their content instead.
var ErrNoUIDL = errors.New("server does not support UIDL")

// ErrNoAPOP means APOP was asked for but the server's greeting carried no
// <timestamp>, so the server does not offer APOP. Nothing was sent.
var ErrNoAPOP = errors.New("pop3: server greeting has no APOP timestamp; APOP not offered")

// ErrProtocol is matched by errors about a server answer that breaks RFC 1939
// (a status line that is neither +OK nor -ERR, a listing that is not numbers).
var ErrProtocol = errors.New("server broke the protocol")

// ErrLimit is matched by the error of a command whose answer exceeded a
// bound that keeps memory in check (a line over 8 KiB, a listing over a
// million lines). The client is unusable afterwards, but asking again would
// meet the same answer: it is no connection error to retry.
var ErrLimit = errors.New("server exceeded a limit")

// ErrIMAPGreeting is matched by the error of Dial when the server greets
// the way an IMAP server does ("* OK"): the address is an IMAP port.
var ErrIMAPGreeting = errors.New("the server greets like an IMAP server (\"* OK\"); use imap:// or imaps://")

// ErrClosed is matched by the errors of commands on a client after Quit or
// Close.
var ErrClosed = errors.New("pop3: client closed")

// connError wraps the failure after which the client's connection can no
// longer be used: the client is closed and every later command returns it.
type connError struct {
	op  string
	err error
}

func (e *connError) Error() string { return "pop3: " + e.op + ": " + e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// IsConnectionError reports whether err means the connection is gone or out
// of step with the server (I/O failure, timeout, cancelled command, protocol
// violation, closed client), as opposed to a -ERR answer (*Error), a refused
// argument on a connection that still works, or a server that exceeded a
// limit (ErrLimit) or is no POP3 server (ErrIMAPGreeting). After a connection error the
// Client is unusable: dial again.
func IsConnectionError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrLimit) || errors.Is(err, ErrIMAPGreeting) {
		return false
	}
	var ce *connError
	if errors.As(err, &ce) || errors.Is(err, ErrClosed) {
		return true
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne)
}

// redact replaces each non-empty secret in s by "***", so that a server
// echoing what it got (some do in their -ERR text) cannot leak a password
// into logs.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

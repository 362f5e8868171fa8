package mailconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/mailferry/mailferry/internal/pop3"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

func TestIsConnectionError(t *testing.T) {
	no := &imap.Error{Type: imap.StatusResponseTypeNo, Text: "mailbox does not exist"}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"EOF", io.EOF, true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"wrapped unexpected EOF", fmt.Errorf("fetch INBOX: %w", io.ErrUnexpectedEOF), true},
		{"closed", &net.OpError{Op: "write", Net: "tcp", Err: net.ErrClosed}, true},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{"broken pipe", fmt.Errorf("append: %w", syscall.EPIPE), true},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{"timeout", os.ErrDeadlineExceeded, true},
		{"temporary DNS failure", &net.DNSError{Err: "server misbehaving", Name: "mail.example.org", IsTemporary: true}, true},
		{"unknown host", &net.DNSError{Err: "no such host", Name: "mial.example.org", IsNotFound: true}, false},
		{"NO", no, false},
		{"wrapped NO", fmt.Errorf("select: %w", no), false},
		{"BAD", &imap.Error{Type: imap.StatusResponseTypeBad, Text: "syntax error"}, false},
		{"BYE", &imap.Error{Type: imap.StatusResponseTypeBye, Text: "too many connections"}, true},
		{"unparsable response", errors.New(`in response-data: unsupported response type "X-GM-WHATEVER"`), true},
		{"read error as text", errors.New("in response: cannot read tag: read tcp 127.0.0.1:1->127.0.0.1:2: i/o timeout"), true},
		{"wrapped text", fmt.Errorf("fetch: %w", errors.New("in response-tagged: in resp-text: bad")), true},
		{"before greeting", errors.New("connection closed before greeting"), true},
		{"panic", errors.New("imapclient: panic reading response: oops"), true},
		{"cancelled", context.Canceled, false},
		{"deadline", fmt.Errorf("dial: %w", context.DeadlineExceeded), false},
		{"auth failure", &DialError{Endpoint: "imap://a@h", Op: OpAuth, Err: fmt.Errorf("server rejected user a: %w", &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed})}, false},
		{"auth cut short", &DialError{Endpoint: "imap://a@h", Op: OpAuth, Err: io.ErrUnexpectedEOF}, true},
		{"dial refused", &DialError{Endpoint: "imap://a@h", Op: OpDial, Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, true},
		{"certificate", &DialError{Endpoint: "imaps://a@h", Op: OpTLS, Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}, false},
		{"x509 host name", x509.HostnameError{Host: "h"}, false},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, false},
		{"plaintext refused", &DialError{Endpoint: "imap://a@h", Op: OpSecurity, Err: ErrPlaintextRefused}, false},
		{"no password", fmt.Errorf("x: %w", ErrNoPassword), false},
		{"something else", errors.New("disk full"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsConnectionError(tt.err); got != tt.want {
				t.Errorf("IsConnectionError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestIsConnectionErrorFromClient checks the classification against what
// imapclient really returns, so that a go-imap upgrade that changes its
// error reporting shows up here.
func TestIsConnectionErrorFromClient(t *testing.T) {
	const caps = "IMAP4rev1 AUTH=PLAIN SASL-IR"
	tests := []struct {
		name       string
		reply      fakeReply
		wantConn   bool
		wantClosed bool
	}{
		{
			name: "NO keeps the connection",
			reply: func(tag, cmd string) ([]string, bool, bool) {
				if cmd == "NOOP" {
					return []string{tag + " NO try later"}, false, true
				}
				return nil, false, false
			},
		},
		{
			name: "BAD keeps the connection",
			reply: func(tag, cmd string) ([]string, bool, bool) {
				if cmd == "NOOP" {
					return []string{tag + " BAD what"}, false, true
				}
				return nil, false, false
			},
		},
		{
			name: "BYE and hang up",
			reply: func(tag, cmd string) ([]string, bool, bool) {
				if cmd == "NOOP" {
					return []string{"* BYE shutting down"}, true, true
				}
				return nil, false, false
			},
			wantConn: true, wantClosed: true,
		},
		{
			name: "hang up mid-response",
			reply: func(tag, cmd string) ([]string, bool, bool) {
				if cmd == "NOOP" {
					return []string{"* 1 FETCH (UID 1 BODY[] {100}", "only part of it"}, true, true
				}
				return nil, false, false
			},
			wantConn: true, wantClosed: true,
		},
		{
			name: "unknown untagged response",
			reply: func(tag, cmd string) ([]string, bool, bool) {
				if cmd == "NOOP" {
					return []string{"* XSTRANGE 1 2 3", tag + " OK done"}, false, true
				}
				return nil, false, false
			},
			wantConn: true, wantClosed: true,
		},
		{
			name: "unknown FETCH item",
			reply: func(tag, cmd string) ([]string, bool, bool) {
				if cmd == "NOOP" {
					return []string{`* 1 FETCH (UID 1 X-GM-LABELS ("\\Inbox"))`, tag + " OK done"}, false, true
				}
				return nil, false, false
			},
			wantConn: true, wantClosed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFakeIMAP(t, "* OK [CAPABILITY "+caps+"] fake ready", caps, tt.reply)
			ep := mustEndpoint(t, "imap://alice@"+srv.Addr)
			c, err := DialIMAP(context.Background(), ep, Options{Password: passwordEnv(t, "pw")})
			if err != nil {
				t.Fatalf("DialIMAP: %v", err)
			}
			defer c.Close()
			err = c.Noop().Wait()
			if err == nil {
				t.Fatal("NOOP succeeded")
			}
			t.Logf("NOOP error: %q", err)
			if got := IsConnectionError(err); got != tt.wantConn {
				t.Errorf("IsConnectionError(%q) = %v, want %v", err, got, tt.wantConn)
			}
			if tt.wantClosed {
				// Closed() follows the failed command by a moment.
				select {
				case <-c.Closed():
				case <-time.After(5 * time.Second):
					t.Error("client not closed")
				}
				// A command on the dead client fails as a connection error too.
				if err := c.Noop().Wait(); !IsConnectionError(err) {
					t.Errorf("NOOP after close: IsConnectionError(%v) = false", err)
				}
			} else if ClientClosed(c) {
				t.Error("ClientClosed after a NO/BAD")
			}
		})
	}
}

func TestDialGreetingErrors(t *testing.T) {
	tests := []struct {
		name     string
		greeting string
		wantConn bool // worth a redial, also on a first dial
		wantText string
	}{
		{"BYE greeting", "* BYE too many connections from your IP", true, "too many connections"},
		{"garbage greeting", "HTTP/1.1 400 Bad Request", false, "greeting"},
	}
	for _, tt := range tests {
		for _, dl := range dialPaths {
			t.Run(tt.name+"/"+dl.name, func(t *testing.T) {
				testDialGreeting(t, tt.greeting, dl.dial, tt.wantConn, tt.wantText)
			})
		}
	}
}

func testDialGreeting(t *testing.T, greeting string, dial func(*Dialer) error, wantConn bool, wantText string) {
	t.Helper()
	srv := startFakeIMAP(t, greeting, "IMAP4rev1", noReply)
	d, err := NewDialer(mustEndpoint(t, "imap://alice@"+srv.Addr), Options{Password: passwordEnv(t, "pw")})
	if err != nil {
		t.Fatal(err)
	}
	err = dial(d)
	var de *DialError
	if !errors.As(err, &de) || de.Op != OpGreeting {
		t.Fatalf("dial error = %v, want a greeting *DialError", err)
	}
	// The first dial of a Dialer is not retried (Final) unless the
	// server said BYE: it is there, but busy.
	if de.Final == wantConn || IsConnectionError(err) != wantConn || !strings.Contains(err.Error(), wantText) {
		t.Errorf("error %q: Final = %v, IsConnectionError = %v, want %v; want text %q", err, de.Final, IsConnectionError(err), wantConn, wantText)
	}
}

// A POP3 session that dies is a connection error here too, so POP3 and
// IMAP exports retry the same way.
func TestIsConnectionErrorPOP3(t *testing.T) {
	client, server := net.Pipe()
	server.Close()
	_, err := pop3.NewClient(t.Context(), client)
	if err == nil {
		t.Fatal("greeting read from a closed pipe")
	}
	if !IsConnectionError(err) {
		t.Errorf("IsConnectionError(%v) = false for a POP3 session that died", err)
	}
}

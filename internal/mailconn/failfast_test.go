package mailconn

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// startGreeter accepts connections and sends each greeting, then reads
// until the client hangs up: a server of some protocol, as seen by a
// client of another.
func startGreeter(t *testing.T, greeting string) string {
	t.Helper()
	return listenFake(t, func(c net.Conn) {
		defer c.Close()
		io.WriteString(c, greeting+"\r\n")
		io.Copy(io.Discard, c)
	})
}

// TestWrongProtocol: a server that speaks another protocol than the URL
// says is named at once, with the scheme to use, and never redialled: a
// POP3 greeting on imap://, an IMAP greeting on pop3://, plaintext on
// imaps:// and pop3s://.
func TestWrongProtocol(t *testing.T) {
	pop3Greeting := "+OK Dovecot ready."
	imapGreeting := "* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready."
	imapDial := func(d *Dialer) error {
		c, err := d.Dial(context.Background())
		if err == nil {
			c.Close()
		}
		return err
	}
	appenderDial := func(d *Dialer) error {
		a, err := d.DialAppender(context.Background())
		if err == nil {
			a.Close()
		}
		return err
	}
	pop3Dial := func(d *Dialer) error {
		c, err := d.DialPOP3(context.Background())
		if err == nil {
			c.Close()
		}
		return err
	}
	tests := []struct {
		name     string
		scheme   string
		greeting string
		dial     func(*Dialer) error
		want     string
	}{
		{"POP3 server on imap://", "imap", pop3Greeting, imapDial, "use pop3://"},
		{"POP3 server on imap://, Appender", "imap", pop3Greeting, appenderDial, "use pop3://"},
		{"IMAP server on pop3://", "pop3", imapGreeting, pop3Dial, "use imap://"},
		{"plaintext IMAP on imaps://", "imaps", imapGreeting, imapDial, "use imap://"},
		{"plaintext IMAP on imaps://, Appender", "imaps", imapGreeting, appenderDial, "use imap://"},
		{"plaintext POP3 on pop3s://", "pop3s", pop3Greeting, pop3Dial, "use pop3://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startGreeter(t, tt.greeting)
			d, err := NewDialer(mustEndpoint(t, tt.scheme+"://alice@"+addr), Options{Password: passwordEnv(t, "pw")})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = tt.dial(d)
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("took %v", el)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to say %q", err, tt.want)
			}
			if IsConnectionError(err) {
				t.Errorf("error %v is a connection error, would be redialled", err)
			}
			t.Log(err)
		})
	}
}

// TestFirstDialFailsFast: nothing listening fails a Session's first dial
// at once, without redials; once a connection worked, a refused redial is
// a connection failure worth retrying.
func TestFirstDialFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d, err := NewDialer(mustEndpoint(t, "imap://alice@"+addr), Options{Password: passwordEnv(t, "pw")})
	if err != nil {
		t.Fatal(err)
	}
	s := &Session{Dial: d.Dial, Retries: 6}
	start := time.Now()
	err = s.Do(context.Background(), func(*imapclient.Client) error { return nil })
	if el := time.Since(start); el > time.Second {
		t.Errorf("first dial failed after %v, want at once", el)
	}
	var de *DialError
	if !errors.As(err, &de) || de.Op != OpDial || !strings.Contains(err.Error(), "refused") {
		t.Errorf("error = %v, want a refused connect", err)
	}

	// A server that worked once, then stops listening.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		f := &fakeIMAP{}
		f.serve(c, "* OK ready", "IMAP4rev1", noReply)
	}()
	d, err = NewDialer(mustEndpoint(t, "imap://alice@"+ln.Addr().String()), Options{Password: passwordEnv(t, "pw")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	ln.Close()
	_, err = d.Dial(context.Background())
	if !IsConnectionError(err) {
		t.Errorf("redial after a working connection: error = %v, want a connection error", err)
	}
}

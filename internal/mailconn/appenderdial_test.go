package mailconn

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// TestAppenderPreauth: a PREAUTH greeting skips the login where no
// STARTTLS was wanted, and is refused, as Dial refuses it, where the
// server offers STARTTLS or plaintext is not allowed.
func TestAppenderPreauth(t *testing.T) {
	for _, tc := range []struct {
		name, caps, host string
		wantOp           Op
		wantErr          error
	}{
		{name: "loopback without STARTTLS", caps: "IMAP4rev1 UIDPLUS", host: "127.0.0.1"},
		{name: "STARTTLS offered", caps: "IMAP4rev1 STARTTLS UIDPLUS", host: "127.0.0.1", wantOp: OpSecurity},
		{name: "not loopback", caps: "IMAP4rev1 UIDPLUS", host: "mail.example.test", wantOp: OpSecurity, wantErr: ErrPlaintextRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeAppendIMAP(t, "* PREAUTH [CAPABILITY "+tc.caps+"] logged in already", tc.caps, 0)
			wire := &wireRecorder{target: srv.Addr}
			d, err := NewDialer(mustEndpoint(t, "imap://alice@"+tc.host), Options{Password: passwordEnv(t, "pw"), DialContext: wire.dial})
			if err != nil {
				t.Fatal(err)
			}
			a, err := d.DialAppender(context.Background())
			if tc.wantOp != "" {
				var de *DialError
				if !errors.As(err, &de) || de.Op != tc.wantOp || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("DialAppender: %v, want a %s error", err, tc.wantOp)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				if err := a.Append("INBOX", nil, appendDate, false, 5, strings.NewReader("x\r\n\r\n")); err != nil {
					t.Fatal(err)
				}
				if err := a.Flush(); err != nil {
					t.Fatal(err)
				}
				if _, err := a.Result(); err != nil {
					t.Fatal(err)
				}
			}
			for _, bad := range []string{"LOGIN", "AUTHENTICATE", "STARTTLS"} {
				if strings.Contains(wire.sentBytes(), bad) {
					t.Errorf("sent %s after PREAUTH: %q", bad, wire.sentBytes())
				}
			}
		})
	}
}

// TestAppenderLoginExchange covers what only the Appender's side of the
// login must do itself: a password that cannot be quoted goes as a
// literal (synchronizing without LITERAL+), and SASL PLAIN without SASL-IR
// sends its initial response after the server's continuation.
func TestAppenderLoginExchange(t *testing.T) {
	const pw = "pässwörd\"\\" // 12 bytes, 8-bit
	for _, tc := range []struct {
		name, caps, wantLine string
		wantLiteral          *fakeLiteral
	}{
		{"LOGIN with a synchronizing literal", "IMAP4rev1", `LOGIN "alice" {12}`, &fakeLiteral{sync: true, data: []byte(pw)}},
		{"LOGIN with LITERAL+", "IMAP4rev1 LITERAL+", `LOGIN "alice" {12+}`, &fakeLiteral{data: []byte(pw)}},
		{"PLAIN without SASL-IR", "IMAP4rev1 LOGINDISABLED AUTH=PLAIN", "AUTHENTICATE PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00alice\x00"+pw)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeAppendIMAP(t, "* OK fake ready", tc.caps, 0)
			dialAppender(t, srv.Addr, Options{Password: passwordEnv(t, pw)})
			var login *fakeCommand
			for _, c := range srv.seen().commands {
				if c.verb == "LOGIN" || c.verb == "AUTHENTICATE" {
					login = &c
				}
			}
			if login == nil || !strings.HasSuffix(login.line, tc.wantLine) {
				t.Fatalf("login command %+v, want one ending %q", login, tc.wantLine)
			}
			if tc.wantLiteral == nil {
				return
			}
			if len(login.literals) != 1 || login.literals[0].sync != tc.wantLiteral.sync || string(login.literals[0].data) != pw {
				t.Errorf("literals %+v, want %+v", login.literals, tc.wantLiteral)
			}
		})
	}
}

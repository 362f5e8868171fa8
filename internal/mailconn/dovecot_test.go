package mailconn

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/internal/testserver"
)

var admin = testserver.User{Name: "admin", Password: "admin-Pa55word"}

// TestDovecot runs against one private Dovecot (STARTTLS offered on IMAP,
// implicit TLS on IMAPS, certificate for 127.0.0.1, ::1 and localhost from
// a private CA, master user admin).
func TestDovecot(t *testing.T) {
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{alice, bob}, Master: &admin})
	d.Append(t, alice.Name, "INBOX", testserver.Message{Body: []byte("Subject: one\r\n\r\nbody\r\n")})
	_, imapPort, _ := net.SplitHostPort(d.IMAPAddr)
	_, imapsPort, _ := net.SplitHostPort(d.IMAPSAddr)
	withCA := TLSOptions{CAFile: d.CAFile}

	t.Run("STARTTLS with CA", func(t *testing.T) {
		wire := &wireRecorder{target: d.IMAPAddr}
		dialer, err := NewDialer(mustEndpoint(t, "imap://alice@127.0.0.1:"+imapPort),
			Options{Password: passwordEnv(t, alice.Password), TLS: withCA, DialContext: wire.dial})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 2; i++ {
			c, err := dialer.Dial(context.Background())
			if err != nil {
				t.Fatalf("Dial %d: %v", i, err)
			}
			if n := selectInbox(t, c); n != 1 {
				t.Errorf("INBOX has %d messages, want 1", n)
			}
			c.Logout().Wait()
			c.Close()
		}
		// Plain loopback would have been allowed, yet STARTTLS was used:
		// nothing but CAPABILITY and STARTTLS went in clear.
		sent := wire.sentBytes()
		if !strings.Contains(sent, "STARTTLS") {
			t.Errorf("STARTTLS never sent; client sent %q", sent)
		}
		for _, clear := range []string{"LOGIN", "AUTHENTICATE", alice.Password, "SELECT"} {
			if strings.Contains(sent, clear) {
				t.Errorf("%q crossed the wire in clear", clear)
			}
		}
		// One probe, then one connection per Dial straight to STARTTLS.
		if n := wire.dialCount(); n != 3 {
			t.Errorf("%d connections for 2 Dials, want 3 (probe once)", n)
		}
		assertLoginLogged(t, d, "user=<alice>", "TLS")
	})

	t.Run("STARTTLS without CA", func(t *testing.T) {
		_, err := DialIMAP(context.Background(), mustEndpoint(t, "imap://alice@127.0.0.1:"+imapPort),
			Options{Password: passwordEnv(t, alice.Password)})
		assertCertificateError(t, err)
	})

	t.Run("STARTTLS with wrong host name", func(t *testing.T) {
		// The certificate names 127.0.0.1, ::1 and localhost only.
		wire := &wireRecorder{target: d.IMAPAddr}
		_, err := DialIMAP(context.Background(), mustEndpoint(t, "imap://alice@mail.example.test"),
			Options{Password: passwordEnv(t, alice.Password), TLS: withCA, DialContext: wire.dial})
		assertCertificateError(t, err)
	})

	t.Run("STARTTLS insecure", func(t *testing.T) {
		c, err := DialIMAP(context.Background(), mustEndpoint(t, "imap://alice@127.0.0.1:"+imapPort),
			Options{Password: passwordEnv(t, alice.Password), TLS: TLSOptions{InsecureSkipVerify: true}})
		if err != nil {
			t.Fatalf("DialIMAP: %v", err)
		}
		defer c.Close()
		selectInbox(t, c)
	})

	t.Run("imaps with CA", func(t *testing.T) {
		for _, host := range []string{"127.0.0.1", "localhost"} {
			c, err := DialIMAP(context.Background(), mustEndpoint(t, "imaps://alice@"+host+":"+imapsPort),
				Options{Password: passwordEnv(t, alice.Password), TLS: withCA})
			if err != nil {
				t.Fatalf("DialIMAP via %s: %v", host, err)
			}
			if n := selectInbox(t, c); n != 1 {
				t.Errorf("INBOX has %d messages, want 1", n)
			}
			c.Close()
		}
	})

	t.Run("imaps without CA", func(t *testing.T) {
		_, err := DialIMAP(context.Background(), mustEndpoint(t, "imaps://alice@127.0.0.1:"+imapsPort),
			Options{Password: passwordEnv(t, alice.Password)})
		assertCertificateError(t, err)
	})

	t.Run("imaps to the plain port", func(t *testing.T) {
		_, err := DialIMAP(context.Background(), mustEndpoint(t, "imaps://alice@127.0.0.1:"+imapPort),
			Options{Password: passwordEnv(t, alice.Password), TLS: withCA, DialTimeout: 5e9})
		var de *DialError
		if !errors.As(err, &de) || de.Op != OpTLS {
			t.Errorf("error = %v, want an OpTLS *DialError", err)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		const wrong = "wrong-Pa55word"
		_, err := DialIMAP(context.Background(), mustEndpoint(t, "imaps://alice@127.0.0.1:"+imapsPort),
			Options{Password: passwordEnv(t, wrong), TLS: withCA})
		assertAuthError(t, err, "alice", wrong)
	})

	t.Run("user with @", func(t *testing.T) {
		c, err := DialIMAP(context.Background(), mustEndpoint(t, "imap://bob@example.org@localhost:"+imapPort),
			Options{Password: passwordEnv(t, bob.Password), TLS: withCA})
		if err != nil {
			t.Fatalf("DialIMAP: %v", err)
		}
		defer c.Close()
		if n := selectInbox(t, c); n != 0 {
			t.Errorf("bob's INBOX has %d messages, want 0", n)
		}
	})

	t.Run("master user", func(t *testing.T) {
		tests := []struct {
			user      string
			wantCount uint32
		}{
			{alice.Name, 1},
			{bob.Name, 0},
		}
		for _, tt := range tests {
			ep := mustEndpoint(t, "imaps://"+userinfoString(tt.user)+"@127.0.0.1:"+imapsPort)
			c, err := DialIMAP(context.Background(), ep,
				Options{Password: passwordEnv(t, admin.Password), TLS: withCA, AuthUser: admin.Name})
			if err != nil {
				t.Fatalf("admin login as %s: %v", tt.user, err)
			}
			if n := selectInbox(t, c); n != tt.wantCount {
				t.Errorf("%s's INBOX has %d messages as seen by admin, want %d", tt.user, n, tt.wantCount)
			}
			c.Close()
		}
	})

	for _, dl := range dialPaths {
		t.Run("master user wrong password/"+dl.name, func(t *testing.T) {
			const wrong = "wrong-admin-Pa55word"
			d, err := NewDialer(mustEndpoint(t, "imaps://alice@127.0.0.1:"+imapsPort),
				Options{Password: passwordEnv(t, wrong), TLS: withCA, AuthUser: admin.Name})
			if err != nil {
				t.Fatal(err)
			}
			err = dl.dial(d)
			assertAuthError(t, err, "alice", wrong)
			if !strings.Contains(err.Error(), "admin") {
				t.Errorf("error %q does not name the admin", err)
			}
		})
	}
}

// assertCertificateError checks a failed verification: an OpTLS error that
// says so and names both ways out, and is not worth retrying.
func assertCertificateError(t *testing.T, err error) {
	t.Helper()
	var de *DialError
	if !errors.As(err, &de) || de.Op != OpTLS || !IsCertificateError(err) {
		t.Fatalf("error = %v, want an OpTLS certificate *DialError", err)
	}
	for _, want := range []string{"certificate", "--tls-ca", "--insecure-skip-verify"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if IsConnectionError(err) {
		t.Errorf("IsConnectionError(%v) = true for a certificate failure", err)
	}
}

// assertLoginLogged finds Dovecot's log line for a successful login that
// contains all of want.
func assertLoginLogged(t *testing.T, d *testserver.Dovecot, want ...string) {
	t.Helper()
	log, err := os.ReadFile(d.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(log)) {
		if !strings.Contains(line, "Login: ") {
			continue
		}
		all := true
		for _, w := range want {
			all = all && strings.Contains(line, w)
		}
		if all {
			return
		}
	}
	t.Errorf("no Dovecot login line with %q; log tail:\n%s", want, d.LogTail())
}

package mailconn

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailferry/mailferry/internal/testserver"
)

var (
	alice = testserver.User{Name: "alice", Password: "alice-Pa55word"}
	bob   = testserver.User{Name: "bob@example.org", Password: "bob-Pa55word"}
)

func mustEndpoint(t *testing.T, s string) Endpoint {
	t.Helper()
	ep, err := ParseEndpoint(s)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// selectInbox proves a client is logged in and usable, returning INBOX's
// message count.
func selectInbox(t *testing.T, c *imapclient.Client) uint32 {
	t.Helper()
	data, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("SELECT INBOX: %v", err)
	}
	return data.NumMessages
}

// assertAuthError checks a failed login: an OpAuth *DialError that names
// the user and the server's NO, never the password, and is not a connection
// error.
func assertAuthError(t *testing.T, err error, user, password string) {
	t.Helper()
	var de *DialError
	if !errors.As(err, &de) || de.Op != OpAuth {
		t.Fatalf("error = %v, want an OpAuth *DialError", err)
	}
	var imapErr *imap.Error
	var cmdErr *CommandError
	if !(errors.As(err, &imapErr) && imapErr.Type == imap.StatusResponseTypeNo) && !(errors.As(err, &cmdErr) && cmdErr.Status == "NO") {
		t.Errorf("error %v does not hold the server's NO", err)
	}
	if !strings.Contains(err.Error(), "user "+user) {
		t.Errorf("error %q does not name user %s", err, user)
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("error %q contains the password", err)
	}
	if IsConnectionError(err) {
		t.Errorf("IsConnectionError(%v) = true for a rejected login", err)
	}
}

func TestDialMemoryIMAP(t *testing.T) {
	m := testserver.StartMemoryIMAP(t, alice, bob)
	m.Append(t, bob.Name, "INBOX", testserver.Message{Body: []byte("Subject: hi\r\n\r\nhello\r\n")})
	_, port, _ := net.SplitHostPort(m.Addr)

	tests := []struct {
		name      string
		url       string
		password  string
		wantCount uint32
	}{
		{"loopback IPv4", "imap://alice@127.0.0.1:" + port, alice.Password, 0},
		{"user with @", "imap://bob@example.org@127.0.0.1:" + port, bob.Password, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DialIMAP(context.Background(), mustEndpoint(t, tt.url), Options{Password: passwordEnv(t, tt.password)})
			if err != nil {
				t.Fatalf("DialIMAP: %v", err)
			}
			defer c.Close()
			if n := selectInbox(t, c); n != tt.wantCount {
				t.Errorf("INBOX has %d messages, want %d", n, tt.wantCount)
			}
			if err := c.Logout().Wait(); err != nil {
				t.Errorf("LOGOUT: %v", err)
			}
		})
	}

	for _, dl := range dialPaths {
		t.Run("wrong password/"+dl.name, func(t *testing.T) {
			const wrong = "not-the-Pa55word"
			d, err := NewDialer(mustEndpoint(t, "imap://alice@127.0.0.1:"+port), Options{Password: passwordEnv(t, wrong)})
			if err != nil {
				t.Fatal(err)
			}
			assertAuthError(t, dl.dial(d), "alice", wrong)
		})
	}
}

// TestDialPlaintextPolicy uses a host name that is not loopback, redirected
// to the in-memory server, which offers no STARTTLS.
func TestDialPlaintextPolicy(t *testing.T) {
	m := testserver.StartMemoryIMAP(t, alice)
	ep := mustEndpoint(t, "imap://alice@mail.example.test")

	t.Run("refused", func(t *testing.T) {
		wire := &wireRecorder{target: m.Addr}
		d, err := NewDialer(ep, Options{Password: passwordEnv(t, alice.Password), DialContext: wire.dial})
		if err != nil {
			t.Fatal(err)
		}
		for attempt := 1; attempt <= 2; attempt++ {
			_, err := d.Dial(context.Background())
			if !errors.Is(err, ErrPlaintextRefused) || !strings.Contains(err.Error(), "--allow-plaintext") {
				t.Fatalf("attempt %d: error = %v, want ErrPlaintextRefused naming --allow-plaintext", attempt, err)
			}
			if IsConnectionError(err) {
				t.Errorf("IsConnectionError(%v) = true", err)
			}
		}
		if sent := wire.sentBytes(); strings.Contains(sent, "LOGIN") || strings.Contains(sent, alice.Password) {
			t.Errorf("credentials sent in clear: %q", sent)
		}
		// The second attempt knew there is no STARTTLS and did not connect.
		if n := wire.dialCount(); n != 1 {
			t.Errorf("%d connections, want 1", n)
		}
	})

	t.Run("allowed", func(t *testing.T) {
		wire := &wireRecorder{target: m.Addr}
		var log syncBuffer
		opts := Options{
			Password:    passwordEnv(t, alice.Password),
			DialContext: wire.dial,
			TLS:         TLSOptions{AllowPlaintext: true},
			Logger:      slog.New(slog.NewTextHandler(&log, nil)),
		}
		c, err := DialIMAP(context.Background(), ep, opts)
		if err != nil {
			t.Fatalf("DialIMAP: %v", err)
		}
		defer c.Close()
		selectInbox(t, c)
		if !strings.Contains(log.String(), "unencrypted") {
			t.Errorf("no warning about plaintext logged: %q", log.String())
		}
		if strings.Contains(log.String(), alice.Password) {
			t.Errorf("log contains the password: %q", log.String())
		}
	})
}

func TestDialerSharesPassword(t *testing.T) {
	m := testserver.StartMemoryIMAP(t, alice)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(alice.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := NewDialer(mustEndpoint(t, "imap://alice@"+m.Addr), Options{Password: PasswordSource{File: pwFile}})
	if err != nil {
		t.Fatal(err)
	}

	const parallel = 4
	clients := make([]*imapclient.Client, parallel)
	errs := make([]error, parallel)
	var wg sync.WaitGroup
	for i := range parallel {
		wg.Go(func() { clients[i], errs[i] = d.Dial(context.Background()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Dial %d: %v", i, err)
		}
		defer clients[i].Close()
		selectInbox(t, clients[i])
	}

	// The password was read once: later Dials do not need the file.
	if err := os.Remove(pwFile); err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial(context.Background())
	if err != nil {
		t.Fatalf("Dial after the password file is gone: %v", err)
	}
	c.Close()
}

func TestDialDebugWriterHidesLogin(t *testing.T) {
	m := testserver.StartMemoryIMAP(t, alice)
	var debug syncBuffer
	opts := Options{Password: passwordEnv(t, alice.Password), Client: imapclient.Options{DebugWriter: &debug}}
	c, err := DialIMAP(context.Background(), mustEndpoint(t, "imap://alice@"+m.Addr), opts)
	if err != nil {
		t.Fatalf("DialIMAP: %v", err)
	}
	selectInbox(t, c)
	c.Close()
	out := debug.String()
	if strings.Contains(out, alice.Password) {
		t.Errorf("debug output contains the password:\n%s", out)
	}
	for _, want := range []string{"CAPABILITY", "login exchange not shown", "SELECT"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug output lacks %q:\n%s", want, out)
		}
	}
}

// syncBuffer is a bytes.Buffer for imapclient's reader and writer
// goroutines at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// dialPaths are the two ways a Dialer logs in, which must agree: go-imap's
// client and the Appender's own connection. Each closes what it opened.
var dialPaths = []struct {
	name string
	dial func(*Dialer) error
}{
	{"go-imap", func(d *Dialer) error {
		c, err := d.Dial(context.Background())
		if err == nil {
			c.Close()
		}
		return err
	}},
	{"Appender", func(d *Dialer) error {
		a, err := d.DialAppender(context.Background())
		if err == nil {
			a.Close()
		}
		return err
	}},
}

// TestDialLoginMechanism checks the choice of LOGIN or SASL PLAIN, made
// once (saslClient) for go-imap's connections and the Appender's alike.
func TestDialLoginMechanism(t *testing.T) {
	tests := []struct {
		name     string
		caps     string
		authUser string
		wantCmd  string // start of the command that carried the credentials
		wantErr  string
	}{
		{"LOGIN by default", "IMAP4rev1 AUTH=PLAIN SASL-IR", "", `LOGIN "alice" `, ""},
		// base64("\x00alice\x00pw")
		{"PLAIN when LOGINDISABLED", "IMAP4rev1 LOGINDISABLED AUTH=PLAIN SASL-IR", "", "AUTHENTICATE PLAIN AGFsaWNlAHB3", ""},
		// base64("alice\x00admin\x00pw"): authzid alice, authcid admin
		{"admin PLAIN", "IMAP4rev1 AUTH=PLAIN SASL-IR", "admin", "AUTHENTICATE PLAIN YWxpY2UAYWRtaW4AcHc=", ""},
		{"LOGINDISABLED without PLAIN", "IMAP4rev1 LOGINDISABLED", "", "", "LOGINDISABLED"},
		{"admin without PLAIN", "IMAP4rev1 AUTH=LOGIN", "admin", "", "needs SASL PLAIN"},
	}
	for _, dl := range dialPaths {
		for _, tt := range tests {
			t.Run(dl.name+"/"+tt.name, func(t *testing.T) {
				srv := startFakeIMAP(t, "* OK [CAPABILITY "+tt.caps+"] fake ready", tt.caps, noReply)
				opts := Options{Password: passwordEnv(t, "pw"), AuthUser: tt.authUser}
				d, err := NewDialer(mustEndpoint(t, "imap://alice@"+srv.Addr), opts)
				if err != nil {
					t.Fatal(err)
				}
				err = dl.dial(d)
				if tt.wantErr != "" {
					var de *DialError
					if !errors.As(err, &de) || de.Op != OpAuth || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("dial error = %v, want an OpAuth error containing %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				var found bool
				for _, line := range srv.received() {
					_, cmd, _ := strings.Cut(line, " ")
					found = found || strings.HasPrefix(cmd, tt.wantCmd)
				}
				if !found {
					t.Errorf("no command starting %q among %q", tt.wantCmd, srv.received())
				}
			})
		}
	}
}

func TestDialTimeoutAndCancel(t *testing.T) {
	// A server that accepts and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ep := mustEndpoint(t, "imap://alice@"+ln.Addr().String())

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		_, err := DialIMAP(context.Background(), ep, Options{Password: passwordEnv(t, "pw"), DialTimeout: 200 * time.Millisecond})
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("Dial took %v with a 200ms timeout", el)
		}
		var de *DialError
		if !errors.As(err, &de) || !IsConnectionError(de.Err) || !strings.Contains(err.Error(), "200ms") {
			t.Errorf("error = %v, want a connection error naming the timeout", err)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := DialIMAP(ctx, ep, Options{Password: passwordEnv(t, "pw")})
		if !errors.Is(err, context.Canceled) || IsConnectionError(err) {
			t.Errorf("error = %v, want context.Canceled and no connection error", err)
		}
	})

	t.Run("refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		_, err = DialIMAP(context.Background(), mustEndpoint(t, "imap://alice@"+addr), Options{Password: passwordEnv(t, "pw")})
		var de *DialError
		if !errors.As(err, &de) || de.Op != OpDial || !IsConnectionError(de.Err) || IsConnectionError(err) {
			t.Errorf("error = %v, want an OpDial connection error, final on a first dial", err)
		}
		if !strings.Contains(err.Error(), "imap://alice@"+addr) {
			t.Errorf("error %q does not name the endpoint", err)
		}
	})
}

func TestDialNoPassword(t *testing.T) {
	noTerminal(t)
	t.Setenv(DefaultPasswordEnv, "")
	_, err := DialIMAP(context.Background(), mustEndpoint(t, "imap://alice@127.0.0.1:1"), Options{Password: PasswordSource{Prompt: true}})
	var de *DialError
	if !errors.As(err, &de) || de.Op != OpPassword || !errors.Is(err, ErrNoPassword) {
		t.Errorf("error = %v, want an OpPassword ErrNoPassword", err)
	}
}

func TestNewDialerChecks(t *testing.T) {
	badCA := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(badCA, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		url     string
		opts    Options
		wantErr string
	}{
		{"missing CA file", "imaps://alice@host", Options{TLS: TLSOptions{CAFile: filepath.Join(t.TempDir(), "absent.pem")}}, "--tls-ca"},
		{"CA file without PEM", "imaps://alice@host", Options{TLS: TLSOptions{CAFile: badCA}}, "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDialer(mustEndpoint(t, tt.url), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewDialer error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	// One Dialer type serves both protocols; each Dial refuses the other's.
	pop, err := NewDialer(mustEndpoint(t, "pop3://alice@host"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pop.Dial(t.Context()); err == nil || !strings.Contains(err.Error(), "not an IMAP endpoint") {
		t.Errorf("Dial on a POP3 endpoint: %v", err)
	}
	imapD, err := NewDialer(mustEndpoint(t, "imap://alice@host"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imapD.DialPOP3(t.Context()); err == nil || !strings.Contains(err.Error(), "not a POP3 endpoint") {
		t.Errorf("DialPOP3 on an IMAP endpoint: %v", err)
	}
}

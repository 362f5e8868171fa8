package pop3

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/internal/testserver"
)

// The tests in this file run against a private Dovecot (internal/testserver)
// and are skipped where Dovecot is not installed, unless CI=true.

var (
	alice = testserver.User{Name: "alice", Password: "alice-Secret-42"}
	// bob is the throwaway mailbox, the only one any test deletes from.
	bob   = testserver.User{Name: "bob", Password: "bob-Secret-43"}
	admin = testserver.User{Name: "admin", Password: "admin-Secret-44"}
)

// seedMessage is a message put into Dovecot over IMAP and what RETR must
// give for it.
type seedMessage struct {
	name string
	body string
	retr string // what Dovecot's RETR sends, dot-stuffing undone
	wire string // if set, exactly what Dovecot sends after the +OK line
}

// seedMessages covers what a byte-exact client can get wrong. Dovecot keeps
// Maildir files with LF line ends and sends CRLF in both IMAP and POP3, so
// bare LFs come back as CRLF; a bare CR is kept.
var seedMessages = []seedMessage{
	{
		name: "plain",
		body: "From: carol@example.org\r\nTo: alice@example.org\r\nSubject: plain\r\n\r\nHello, Alice.\r\n",
		retr: "From: carol@example.org\r\nTo: alice@example.org\r\nSubject: plain\r\n\r\nHello, Alice.\r\n",
	},
	{
		name: "dot lines",
		body: "Subject: dots\r\n\r\n.\r\n..\r\n.leading dot\r\n...three\r\nend.\r\n. \r\n",
		retr: "Subject: dots\r\n\r\n.\r\n..\r\n.leading dot\r\n...three\r\nend.\r\n. \r\n",
		wire: "Subject: dots\r\n\r\n..\r\n...\r\n..leading dot\r\n....three\r\nend.\r\n.. \r\n.\r\n",
	},
	{
		name: "bare LF",
		body: "Subject: bare LF\n\nline one\nline two\n.dot after LF\n..two\n.\n",
		retr: "Subject: bare LF\r\n\r\nline one\r\nline two\r\n.dot after LF\r\n..two\r\n.\r\n",
		wire: "Subject: bare LF\r\n\r\nline one\r\nline two\r\n..dot after LF\r\n...two\r\n..\r\n.\r\n",
	},
	{
		name: "mixed line ends and bare CR",
		body: "Subject: mixed\r\n\r\ncrlf line\r\nlf line\nbare cr\rhere\r\n",
		retr: "Subject: mixed\r\n\r\ncrlf line\r\nlf line\r\nbare cr\rhere\r\n",
	},
	{
		name: "8-bit",
		body: "Subject: 8bit\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xc3\xa9 \xe9\xff\x80\r\n",
		retr: "Subject: 8bit\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xc3\xa9 \xe9\xff\x80\r\n",
	},
	{
		name: "long line",
		body: "Subject: long\r\n\r\n." + strings.Repeat("0123456789", 2500) + "\r\n",
		retr: "Subject: long\r\n\r\n." + strings.Repeat("0123456789", 2500) + "\r\n",
	},
	{
		// POP3 needs a CRLF before the terminating line, so Dovecot adds
		// one that IMAP's BODY[] and LIST's size do not have.
		name: "no final line end",
		body: "Subject: no newline\r\n\r\nlast line without end",
		retr: "Subject: no newline\r\n\r\nlast line without end\r\n",
		wire: "Subject: no newline\r\n\r\nlast line without end\r\n.\r\n",
	},
}

// bigSize is the size of the large seeded message.
const bigSize = 10 << 20

// bigBody builds the large message once: CRLF lines, a dot line in 16, and
// 8-bit bytes.
var bigBody = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	b.WriteString("Subject: big\r\n\r\n")
	bigMessage(&b, bigSize, false)
	return b.Bytes()
})

// startDovecot starts a Dovecot with alice, bob and the master user admin,
// and seeds alice's INBOX (with the big message last if big) and bob's.
func startDovecot(t *testing.T, big bool) *testserver.Dovecot {
	t.Helper()
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{alice, bob}, Master: &admin})
	var msgs []testserver.Message
	for _, m := range seedMessages {
		msgs = append(msgs, testserver.Message{Body: []byte(m.body)})
	}
	if big {
		msgs = append(msgs, testserver.Message{Body: bigBody()})
	}
	d.Append(t, alice.Name, "INBOX", msgs...)
	d.Append(t, bob.Name, "INBOX", msgs[:3]...)
	return d
}

// recordingConn keeps a copy of the bytes read and written, to check what
// went over the wire.
type recordingConn struct {
	net.Conn
	mu          sync.Mutex
	read, wrote bytes.Buffer
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.read.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

func (r *recordingConn) Write(p []byte) (int, error) {
	n, err := r.Conn.Write(p)
	r.mu.Lock()
	r.wrote.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

// dialRecording connects to addr through a recordingConn.
func dialRecording(t *testing.T, addr string) (*Client, *recordingConn) {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	rec := &recordingConn{Conn: raw}
	c, err := NewClient(testContext(t), rec)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, rec
}

// dial connects to addr and closes the client when the test ends.
func dial(t *testing.T, addr string, opts ...Option) *Client {
	t.Helper()
	c, err := Dial(testContext(t), addr, opts...)
	if err != nil {
		t.Fatalf("Dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// login dials the plain POP3 port and logs in with USER/PASS.
func login(t *testing.T, d *testserver.Dovecot, u testserver.User) *Client {
	t.Helper()
	c := dial(t, d.POP3Addr)
	ctx := testContext(t)
	if err := c.User(ctx, u.Name); err != nil {
		t.Fatalf("USER %s: %v", u.Name, err)
	}
	if err := c.Pass(ctx, u.Password); err != nil {
		t.Fatalf("PASS for %s: %v", u.Name, err)
	}
	return c
}

// stat returns STAT of a fresh session, so that tests can check the
// mailbox did not change.
func stat(t *testing.T, d *testserver.Dovecot, u testserver.User) (int, int64) {
	t.Helper()
	c := login(t, d, u)
	ctx := testContext(t)
	n, size, err := c.Stat(ctx)
	if err != nil {
		t.Fatalf("STAT: %v", err)
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatalf("QUIT: %v", err)
	}
	return n, size
}

func TestDovecotTLS(t *testing.T) {
	d := startDovecot(t, false)
	ctx := testContext(t)
	wantStat := len(seedMessages)

	t.Run("CAPA", func(t *testing.T) {
		c := dial(t, d.POP3Addr)
		caps, err := c.Capa(ctx)
		if err != nil {
			t.Fatalf("Capa: %v", err)
		}
		for _, want := range []string{"STLS", "UIDL", "USER", "SASL PLAIN LOGIN"} {
			if !slices.Contains(caps, want) {
				t.Errorf("CAPA %q lacks %q", caps, want)
			}
		}
		t.Logf("greeting %q, CAPA %q", c.Greeting(), caps)
	})

	untrusted := &tls.Config{RootCAs: x509.NewCertPool()}
	stlsTests := []struct {
		name    string
		cfg     *tls.Config
		wantErr bool
	}{
		{"harness CA", d.TLSConfig(), false},
		{"server name from the dialled host", func() *tls.Config { c := d.TLSConfig(); c.ServerName = ""; return c }(), false},
		{"unknown CA", untrusted, true},
		{"wrong server name", func() *tls.Config { c := d.TLSConfig(); c.ServerName = "mail.example.com"; return c }(), true},
	}
	for _, tt := range stlsTests {
		t.Run("STLS/"+tt.name, func(t *testing.T) {
			c := dial(t, d.POP3Addr)
			caps, err := c.StartTLS(ctx, tt.cfg)
			if tt.wantErr {
				var verr *tls.CertificateVerificationError
				if !errors.As(err, &verr) || !IsConnectionError(err) {
					t.Fatalf("StartTLS = %v, want a certificate error that is a connection error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("StartTLS: %v", err)
			}
			if slices.Contains(caps, "STLS") || !slices.Contains(caps, "USER") {
				t.Errorf("CAPA over TLS = %q, want USER and no STLS", caps)
			}
			state := c.conn.(*tls.Conn).ConnectionState()
			if len(state.VerifiedChains) == 0 {
				t.Errorf("TLS without a verified chain")
			}
			if _, err := c.StartTLS(ctx, tt.cfg); err == nil || IsConnectionError(err) {
				t.Errorf("second StartTLS = %v, want a refusal that leaves the connection", err)
			}
			loginAndStat(t, c, wantStat)
		})
	}

	t.Run("POP3S", func(t *testing.T) {
		c := dial(t, d.POP3SAddr, WithTLS(d.TLSConfig()))
		caps, err := c.Capa(ctx)
		if err != nil {
			t.Fatalf("Capa: %v", err)
		}
		if slices.Contains(caps, "STLS") {
			t.Errorf("CAPA over POP3S = %q offers STLS", caps)
		}
		loginAndStat(t, c, wantStat)
	})

	t.Run("POP3S unknown CA", func(t *testing.T) {
		_, err := Dial(ctx, d.POP3SAddr, WithTLS(untrusted))
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Errorf("Dial = %v, want a certificate error", err)
		}
	})
}

// loginAndStat logs in as alice with USER/PASS and checks STAT's count.
func loginAndStat(t *testing.T, c *Client, want int) {
	t.Helper()
	ctx := testContext(t)
	if err := c.User(ctx, alice.Name); err != nil {
		t.Fatalf("USER: %v", err)
	}
	if err := c.Pass(ctx, alice.Password); err != nil {
		t.Fatalf("PASS: %v", err)
	}
	if n, _, err := c.Stat(ctx); err != nil || n != want {
		t.Errorf("STAT = %d, %v; want %d messages", n, err, want)
	}
}

func TestDovecotLogin(t *testing.T) {
	d := startDovecot(t, false)
	ctx := testContext(t)
	want := len(seedMessages)

	tests := []struct {
		name     string
		capa     bool // ask CAPA first
		password string
		login    func(c *Client, password string) error
		sent     string // a line the client must have sent
	}{
		{
			name:     "USER/PASS",
			password: alice.Password,
			login: func(c *Client, password string) error {
				if err := c.User(ctx, alice.Name); err != nil {
					return err
				}
				return c.Pass(ctx, password)
			},
			sent: "USER alice\r\nPASS " + alice.Password + "\r\n",
		},
		{
			name:     "APOP",
			password: alice.Password,
			login:    func(c *Client, password string) error { return c.APOP(ctx, alice.Name, password) },
			sent:     "APOP alice ",
		},
		{
			name: "AUTH PLAIN with initial response", capa: true,
			password: alice.Password,
			login:    func(c *Client, password string) error { return c.AuthPlain(ctx, "", alice.Name, password) },
			sent:     "AUTH PLAIN " + plainResponse("", alice.Name, alice.Password) + "\r\n",
		},
		{
			name:     "AUTH PLAIN after the empty challenge",
			password: alice.Password,
			login:    func(c *Client, password string) error { return c.AuthPlain(ctx, "", alice.Name, password) },
			sent:     "AUTH PLAIN\r\n" + plainResponse("", alice.Name, alice.Password) + "\r\n",
		},
		{
			name: "AUTH PLAIN as master user", capa: true,
			password: admin.Password,
			login: func(c *Client, password string) error {
				return c.AuthPlain(ctx, alice.Name, admin.Name, password)
			},
			sent: "AUTH PLAIN " + plainResponse(alice.Name, admin.Name, admin.Password) + "\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := dialRecording(t, d.POP3Addr)
			if tt.name == "APOP" && c.timestamp == "" {
				t.Fatalf("greeting %q has no APOP timestamp though the harness enables APOP", c.Greeting())
			}
			if tt.capa {
				if _, err := c.Capa(ctx); err != nil {
					t.Fatalf("Capa: %v", err)
				}
			}

			const wrong = "Wrong-Password-99"
			err := tt.login(c, wrong)
			var perr *Error
			if !errors.As(err, &perr) || IsConnectionError(err) {
				t.Fatalf("login with a wrong password = %v, want *Error", err)
			}
			if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte(wrong))) {
				t.Errorf("error %q contains the password", err)
			}
			t.Logf("wrong password: %v (code %q)", err, perr.Code)

			// The same connection still takes the right password.
			if err := tt.login(c, tt.password); err != nil {
				t.Fatalf("login: %v", err)
			}
			if n, _, err := c.Stat(ctx); err != nil || n != want {
				t.Errorf("STAT = %d, %v; want %d messages", n, err, want)
			}
			if err := c.Quit(ctx); err != nil {
				t.Errorf("Quit: %v", err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if !strings.Contains(rec.wrote.String(), tt.sent) {
				t.Errorf("client sent %q, which lacks %q", rec.wrote.String(), tt.sent)
			}
		})
	}
}

// uidOf returns the IMAP UID in a Dovecot UIDL made by the harness's
// pop3_uidl_format %08Xu%08Xv.
func uidOf(t *testing.T, uidl string) imap.UID {
	t.Helper()
	if len(uidl) != 16 {
		t.Fatalf("UIDL %q is not %%08Xu%%08Xv", uidl)
	}
	uid, err := strconv.ParseUint(uidl[:8], 16, 32)
	if err != nil {
		t.Fatalf("UIDL %q: %v", uidl, err)
	}
	return imap.UID(uid)
}

// imapBodies fetches BODY[] of every message in user's INBOX by UID,
// without setting \Seen.
func imapBodies(t *testing.T, d *testserver.Dovecot, user string) map[imap.UID][]byte {
	t.Helper()
	c := d.Login(t, user)
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("IMAP SELECT: %v", err)
	}
	// 1:*; an empty set would be a protocol error.
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatalf("IMAP FETCH: %v", err)
	}
	bodies := make(map[imap.UID][]byte, len(msgs))
	for _, m := range msgs {
		bodies[m.UID] = m.FindBodySection(&imap.FetchItemBodySection{Peek: true})
	}
	return bodies
}

func TestDovecotRetr(t *testing.T) {
	d := startDovecot(t, true)
	ctx := testContext(t)
	countBefore, sizeBefore := stat(t, d, alice)
	if countBefore != len(seedMessages)+1 {
		t.Fatalf("STAT = %d messages, want %d", countBefore, len(seedMessages)+1)
	}
	imapBody := imapBodies(t, d, alice.Name)

	c, rec := dialRecording(t, d.POP3Addr)
	if err := c.User(ctx, alice.Name); err != nil {
		t.Fatal(err)
	}
	if err := c.Pass(ctx, alice.Password); err != nil {
		t.Fatal(err)
	}
	uids, err := c.UIDL(ctx)
	if err != nil {
		t.Fatalf("UIDL: %v", err)
	}
	list, err := c.List(ctx)
	if err != nil {
		t.Fatalf("LIST: %v", err)
	}
	if len(uids) != countBefore || len(list) != countBefore {
		t.Fatalf("UIDL lists %d, LIST %d messages; STAT said %d", len(uids), len(list), countBefore)
	}

	for i, m := range seedMessages {
		t.Run(m.name, func(t *testing.T) {
			n := i + 1
			rec.mu.Lock()
			rec.read.Reset()
			rec.mu.Unlock()
			r, err := c.Retr(ctx, n)
			if err != nil {
				t.Fatalf("Retr: %v", err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if string(got) != m.retr {
				t.Errorf("RETR gave %q, want %q", trim(got), trim([]byte(m.retr)))
			}

			// What Dovecot really sent: exactly the standard stuffing of
			// what RETR gave, with CRLF everywhere and no bare LF.
			rec.mu.Lock()
			wire := bytes.Clone(rec.read.Bytes())
			rec.mu.Unlock()
			status, body, _ := bytes.Cut(wire, []byte("\r\n"))
			if !bytes.Equal(body, dotStuff(got)) {
				t.Errorf("wire after %q was %q, want %q", status, trim(body), trim(dotStuff(got)))
			}
			if m.wire != "" && string(body) != m.wire {
				t.Errorf("wire after %q was %q, want %q", status, body, m.wire)
			}
			if bytes.Count(wire, []byte("\n")) != bytes.Count(wire, []byte("\r\n")) {
				t.Errorf("Dovecot sent a bare LF: %q", trim(wire))
			}

			// IMAP BODY[] and LIST agree with each other; POP3 adds the
			// CRLF a message without a final line end lacks.
			imap := imapBody[uidOf(t, uids[i].UID)]
			wantIMAP := m.retr
			if !strings.HasSuffix(m.body, "\n") {
				wantIMAP = strings.TrimSuffix(m.retr, "\r\n")
			}
			if string(imap) != wantIMAP {
				t.Errorf("IMAP BODY[] = %q, want %q", trim(imap), trim([]byte(wantIMAP)))
			}
			if list[i].Size != int64(len(imap)) {
				t.Errorf("LIST size %d, IMAP BODY[] %d bytes", list[i].Size, len(imap))
			}
			t.Logf("status %q; RETR %d bytes, IMAP %d, LIST %d", status, len(got), len(imap), list[i].Size)
		})
	}

	big := len(seedMessages) + 1
	t.Run("10 MB", func(t *testing.T) {
		r, err := c.Retr(ctx, big)
		if err != nil {
			t.Fatalf("Retr: %v", err)
		}
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		want := sha256.Sum256(imapBody[uidOf(t, uids[big-1].UID)])
		if !bytes.Equal(h.Sum(nil), want[:]) || n != int64(len(bigBody())) {
			t.Errorf("RETR gave %d bytes that differ from IMAP BODY[] (%d bytes)", n, len(bigBody()))
		}
		if mine := sha256.Sum256(bigBody()); mine != want {
			t.Errorf("IMAP BODY[] differs from the appended message")
		}
	})

	t.Run("Close mid-message", func(t *testing.T) {
		r, err := c.Retr(ctx, big)
		if err != nil {
			t.Fatalf("Retr: %v", err)
		}
		if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
			t.Fatalf("read: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		r, err = c.Retr(ctx, 1)
		if err != nil {
			t.Fatalf("Retr after Close: %v", err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != seedMessages[0].retr {
			t.Errorf("RETR 1 after Close = %q, %v", got, err)
		}
		if err := c.Noop(ctx); err != nil {
			t.Errorf("Noop: %v", err)
		}
	})

	t.Run("no such message", func(t *testing.T) {
		_, err := c.Retr(ctx, 999)
		var perr *Error
		if !errors.As(err, &perr) || IsConnectionError(err) {
			t.Errorf("RETR 999 = %v, want *Error", err)
		}
		if err := c.Noop(ctx); err != nil {
			t.Errorf("Noop after -ERR: %v", err)
		}
	})

	if err := c.Quit(ctx); err != nil {
		t.Errorf("Quit: %v", err)
	}

	t.Run("UIDL stable across sessions", func(t *testing.T) {
		c2 := login(t, d, alice)
		again, err := c2.UIDL(ctx)
		if err != nil {
			t.Fatalf("UIDL: %v", err)
		}
		if !slices.Equal(again, uids) {
			t.Errorf("UIDL changed between sessions:\n%v\n%v", uids, again)
		}
		if err := c2.Quit(ctx); err != nil {
			t.Errorf("Quit: %v", err)
		}
	})

	if n, size := stat(t, d, alice); n != countBefore || size != sizeBefore {
		t.Errorf("STAT after the tests = %d %d, before %d %d", n, size, countBefore, sizeBefore)
	}
}

// TestDovecotDele deletes, on bob's throwaway mailbox only.
func TestDovecotDele(t *testing.T) {
	d := startDovecot(t, false)
	ctx := testContext(t)
	countBefore, _ := stat(t, d, bob)

	uidls := func(c *Client) []string {
		t.Helper()
		uids, err := c.UIDL(ctx)
		if err != nil {
			t.Fatalf("UIDL: %v", err)
		}
		var ids []string
		for _, u := range uids {
			ids = append(ids, u.UID)
		}
		return ids
	}

	// Marked, then unmarked with RSET: kept.
	c := login(t, d, bob)
	before := uidls(c)
	if err := c.Dele(ctx, 2); err != nil {
		t.Fatalf("Dele: %v", err)
	}
	if _, err := c.Retr(ctx, 2); err == nil {
		t.Errorf("RETR of a message marked deleted succeeded")
	}
	if err := c.Rset(ctx); err != nil {
		t.Fatalf("Rset: %v", err)
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatalf("Quit: %v", err)
	}
	if n, _ := stat(t, d, bob); n != countBefore {
		t.Errorf("after DELE and RSET: %d messages, want %d", n, countBefore)
	}

	// Marked, connection closed without QUIT: kept.
	c = login(t, d, bob)
	if err := c.Dele(ctx, 2); err != nil {
		t.Fatalf("Dele: %v", err)
	}
	c.Close()
	if n, _ := stat(t, d, bob); n != countBefore {
		t.Errorf("after DELE without QUIT: %d messages, want %d", n, countBefore)
	}

	// Marked and QUIT: gone.
	c = login(t, d, bob)
	if err := c.Dele(ctx, 2); err != nil {
		t.Fatalf("Dele: %v", err)
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatalf("Quit: %v", err)
	}
	c = login(t, d, bob)
	after := uidls(c)
	if want := slices.Delete(slices.Clone(before), 1, 2); !slices.Equal(after, want) {
		t.Errorf("UIDL after DELE 2 and QUIT = %v, want %v", after, want)
	}
	if n, _ := stat(t, d, alice); n != len(seedMessages) {
		t.Errorf("alice's mailbox changed: %d messages", n)
	}
}

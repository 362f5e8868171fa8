package mailconn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/internal/pop3"
	"github.com/mailferry/mailferry/internal/testserver"
)

// startHostileIMAP serves a greeting, CAPABILITY and LOGIN like a server,
// then answers the first command whose verb is verb with act, which may
// write anything (until the client hangs up) or nothing at all.
func startHostileIMAP(t *testing.T, verb string, act func(w io.Writer, tag string)) string {
	t.Helper()
	return listenFake(t, func(c net.Conn) {
		defer c.Close()
		if _, err := io.WriteString(c, "* OK hostile ready\r\n"); err != nil {
			return
		}
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, cmd, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			if v, _, _ := strings.Cut(cmd, " "); strings.EqualFold(v, verb) {
				act(c, tag)
				io.Copy(io.Discard, r) // until the client hangs up
				return
			}
			lines, _ := defaultFakeReply(tag, cmd, "IMAP4rev1")
			for _, l := range lines {
				io.WriteString(c, l+"\r\n")
			}
		}
	})
}

// endless writes s to w until the client hangs up.
func endless(w io.Writer, s string) {
	chunk := strings.Repeat(s, max(1, 64<<10/len(s)))
	for {
		if _, err := io.WriteString(w, chunk); err != nil {
			return
		}
	}
}

// fetchBodies runs FETCH 1 BODY.PEEK[] and reads every body to its end.
func fetchBodies(c *imapclient.Client) (int64, error) {
	cmd := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	var total int64
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if b, ok := item.(imapclient.FetchItemDataBodySection); ok && b.Literal != nil {
				n, err := io.Copy(io.Discard, b.Literal)
				total += n
				if err != nil {
					cmd.Close()
					return total, err
				}
			}
		}
	}
	return total, cmd.Close()
}

// peakRSS returns the process's peak resident set in bytes.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	rss, err := testserver.PeakRSS()
	if err != nil {
		t.Skip("peak RSS unknown:", err)
	}
	return rss
}

// TestHostileIMAPServer: whatever a server sends or withholds after login,
// a command ends: after the silence allowed (naming it), within 2 s of the
// context's end (Ctrl-C), or at a limit (naming it, and not to be retried),
// and the process stays under 200 MB. A large message body is no limit.
func TestHostileIMAPServer(t *testing.T) {
	const bodySize = 20 << 20
	silence := func(err error) string {
		if !IsSilence(err) || !IsConnectionError(err) {
			return "want a connection error naming the silence"
		}
		return ""
	}
	limit := func(text string) func(error) string {
		return func(err error) string {
			if err == nil || !strings.Contains(err.Error(), ErrServerLimit.Error()) || !strings.Contains(err.Error(), text) || IsConnectionError(err) {
				return fmt.Sprintf("want a limit error naming %q, no connection error", text)
			}
			return ""
		}
	}
	anyErr := func(err error) string {
		if err == nil {
			return "want an error"
		}
		return ""
	}
	tests := []struct {
		name    string
		verb    string
		act     func(w io.Writer, tag string)
		timeout time.Duration // Options.Timeout
		cancel  time.Duration // cancel the Dial's context after this, if not 0
		within  time.Duration
		check   func(error) string
	}{
		{"silent after login", "SELECT", func(io.Writer, string) {}, 300 * time.Millisecond, 0, 3 * time.Second, silence},
		{"silent mid-literal", "FETCH", func(w io.Writer, tag string) {
			io.WriteString(w, "* 1 FETCH (BODY[] {100000}\r\n"+strings.Repeat("x", 1000))
		}, 300 * time.Millisecond, 0, 3 * time.Second, silence},
		{"silent, cancelled", "SELECT", func(io.Writer, string) {}, time.Minute, 200 * time.Millisecond, 2 * time.Second, anyErr},
		{"silent mid-literal, cancelled", "FETCH", func(w io.Writer, tag string) {
			io.WriteString(w, "* 1 FETCH (BODY[] {100000}\r\n"+strings.Repeat("x", 1000))
		}, time.Minute, 200 * time.Millisecond, 2 * time.Second, anyErr},
		{"endless untagged, cancelled", "NOOP", func(w io.Writer, tag string) {
			endless(w, "* OK still here\r\n")
		}, time.Minute, 200 * time.Millisecond, 2 * time.Second, anyErr},
		{"endless FETCH responses, cancelled", "FETCH", func(w io.Writer, tag string) {
			endless(w, "* 1 FETCH (FLAGS (\\Seen))\r\n")
		}, time.Minute, 200 * time.Millisecond, 2 * time.Second, anyErr},
		{"endless untagged", "NOOP", func(w io.Writer, tag string) {
			endless(w, "* OK still here\r\n")
		}, time.Minute, 0, 20 * time.Second, limit("responses in a row")},
		{"2 GB literal name in LIST", "LIST", func(w io.Writer, tag string) {
			io.WriteString(w, "* LIST () \"/\" {2000000000}\r\n")
			endless(w, "a")
		}, time.Minute, 0, 10 * time.Second, limit("literal of 2000000000 bytes")},
		{"endless quoted name in LIST", "LIST", func(w io.Writer, tag string) {
			io.WriteString(w, "* LIST () \"/\" \"")
			endless(w, "a")
		}, time.Minute, 0, 10 * time.Second, limit("quoted string")},
		{"endless line", "NOOP", func(w io.Writer, tag string) {
			io.WriteString(w, "* OK ")
			endless(w, "a ")
		}, time.Minute, 0, 10 * time.Second, limit("line longer")},
		{"a literal of 2 GB after a fake body item in LIST", "LIST", func(w io.Writer, tag string) {
			io.WriteString(w, "* LIST () \"/\" BODY[] {2000000000}\r\n")
			endless(w, "a")
		}, time.Minute, 0, 10 * time.Second, limit("not a message body")},
		{"20 MB body", "FETCH", func(w io.Writer, tag string) {
			fmt.Fprintf(w, "* 1 FETCH (UID 1 BODY[] {%d}\r\n", bodySize)
			io.WriteString(w, strings.Repeat("y", bodySize))
			io.WriteString(w, ")\r\n"+tag+" OK done\r\n")
		}, time.Minute, 0, 10 * time.Second, func(err error) string {
			if err != nil {
				return "want no error"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startHostileIMAP(t, tt.verb, tt.act)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			d, err := NewDialer(mustEndpoint(t, "imap://alice@"+addr), Options{Password: passwordEnv(t, "pw"), Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			c, err := d.Dial(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tt.cancel > 0 {
				time.AfterFunc(tt.cancel, cancel)
			}
			start := time.Now()
			var n int64
			switch tt.verb {
			case "SELECT":
				_, err = c.Select("INBOX", nil).Wait()
			case "LIST":
				_, err = c.List("", "*", nil).Collect()
			case "FETCH":
				n, err = fetchBodies(c)
			case "NOOP":
				err = c.Noop().Wait()
			}
			el := time.Since(start) - tt.cancel
			if el > tt.within {
				t.Errorf("ended %v after the cancel or the timeout, want within %v", el, tt.within)
			}
			if msg := tt.check(err); msg != "" {
				t.Errorf("error %v: %s", err, msg)
			}
			if err == nil && n != bodySize {
				t.Errorf("read %d bytes of body, want %d", n, bodySize)
			}
			if rss := peakRSS(t); rss > 200<<20 {
				t.Errorf("peak RSS %d MB, want under 200 MB", rss>>20)
			}
		})
	}
}

// TestSessionGivesUpOnSilence: a server that goes silent is retried once,
// not as often as a dropped connection, since each silence costs the whole
// timeout.
func TestSessionGivesUpOnSilence(t *testing.T) {
	addr := startHostileIMAP(t, "SELECT", func(io.Writer, string) {})
	d, err := NewDialer(mustEndpoint(t, "imap://alice@"+addr), Options{Password: passwordEnv(t, "pw"), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := &Session{Dial: d.Dial, Retries: 6}
	defer s.Close()
	calls := 0
	start := time.Now()
	err = s.Do(context.Background(), func(c *imapclient.Client) error {
		calls++
		_, err := c.Select("INBOX", nil).Wait()
		return err
	})
	if !IsSilence(err) {
		t.Errorf("error %v, want the silence named", err)
	}
	if calls != maxSilences {
		t.Errorf("%d attempts, want %d", calls, maxSilences)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v", el)
	}
}

// TestAppenderLimits: the Appender, which reads its answers itself, caps
// lines and literals too.
func TestAppenderLimits(t *testing.T) {
	tests := []struct {
		name string
		act  func(w io.Writer, tag string)
		want string
	}{
		{"endless line", func(w io.Writer, tag string) { io.WriteString(w, "* OK "); endless(w, "a") }, "line longer"},
		{"2 GB literal", func(w io.Writer, tag string) {
			io.WriteString(w, "* OK {2000000000}\r\n")
			endless(w, "a")
		}, "literal of 2000000000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startHostileIMAP(t, "SELECT", tt.act)
			a := dialAppender(t, addr, Options{})
			a.Select("INBOX")
			err := a.Append("INBOX", nil, appendDate, false, 5, strings.NewReader("x\r\n\r\n"))
			if err == nil {
				if err = a.Flush(); err == nil {
					_, err = a.Result()
				}
			}
			if !errors.Is(err, ErrServerLimit) || !strings.Contains(err.Error(), tt.want) || IsConnectionError(err) {
				t.Errorf("error %v, want a limit error naming %q", err, tt.want)
			}
		})
	}
}

// TestSessionReplacesDeadConnection: a connection the server closed while
// the Session did not use it is replaced before the next Do, without
// spending one of its reconnects.
func TestSessionReplacesDeadConnection(t *testing.T) {
	var logins atomic.Int32
	srv := startFakeIMAP(t, "* OK ready", "IMAP4rev1", func(tag, cmd string) ([]string, bool, bool) {
		if strings.HasPrefix(cmd, "LOGIN") && logins.Add(1) == 1 {
			return []string{tag + " OK logged in", "* BYE autologout"}, true, true
		}
		return nil, false, false
	})
	d, err := NewDialer(mustEndpoint(t, "imap://alice@"+srv.Addr), Options{Password: passwordEnv(t, "pw")})
	if err != nil {
		t.Fatal(err)
	}
	s := &Session{Dial: d.Dial, Retries: 0}
	defer s.Close()
	ctx := context.Background()
	if err := s.Do(ctx, func(*imapclient.Client) error { return nil }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !ClientClosed(s.conn.c) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	err = s.Do(ctx, func(c *imapclient.Client) error { return c.Noop().Wait() })
	if err != nil || logins.Load() != 2 {
		t.Errorf("Do after the server hung up: %v after %d logins, want success on a second connection", err, logins.Load())
	}
}

// TestIdleConnectionSurvives: the timeout bounds the server's silence while
// it owes an answer, not a connection that sits unused: plain, STARTTLS
// and implicit TLS.
func TestIdleConnectionSurvives(t *testing.T) {
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{alice}})
	fake := startFakeIMAP(t, "* OK ready", "IMAP4rev1", noReply)
	for _, url := range []string{"imap://alice@" + fake.Addr, "imap://alice@" + d.IMAPAddr, "imaps://alice@" + d.IMAPSAddr} {
		t.Run(url, func(t *testing.T) {
			opts := Options{Password: passwordEnv(t, alice.Password), Timeout: 200 * time.Millisecond, TLS: TLSOptions{CAFile: d.CAFile}}
			dl, err := NewDialer(mustEndpoint(t, url), opts)
			if err != nil {
				t.Fatal(err)
			}
			c, err := dl.Dial(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			time.Sleep(600 * time.Millisecond)
			if err := c.Noop().Wait(); err != nil {
				t.Errorf("NOOP after 600 ms unused with a 200 ms timeout: %v", err)
			}
		})
	}
}

// TestAppenderCancelled: when the context given to DialAppender ends, an
// Appender waiting on a silent server returns at once.
func TestAppenderCancelled(t *testing.T) {
	addr := startHostileIMAP(t, "APPEND", func(io.Writer, string) {})
	d, err := NewDialer(mustEndpoint(t, "imap://alice@"+addr), Options{Password: passwordEnv(t, "pw")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := d.DialAppender(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err = a.Append("INBOX", nil, appendDate, false, 5, strings.NewReader("x\r\n\r\n"))
	if err == nil {
		if err = a.Flush(); err == nil {
			_, err = a.Result()
		}
	}
	if el := time.Since(start); err == nil || el > 2*time.Second {
		t.Errorf("Append on a silent server after cancel: %v after %v, want an error within 2 s", err, el)
	}
}

// TestSilenceBudget: the second silence ends the retries, whatever other
// failures come between; a POP3 silence counts as an IMAP one does.
func TestSilenceBudget(t *testing.T) {
	silent := &silenceError{time.Second, os.ErrDeadlineExceeded}
	pop3Silent := &pop3.SilenceError{Silence: time.Second, Err: os.ErrDeadlineExceeded}
	tests := []struct {
		name string
		errs []error
		want []bool
	}{
		{"two silences", []error{silent, silent}, []bool{false, true}},
		{"drops between", []error{io.EOF, silent, io.EOF, io.EOF, pop3Silent}, []bool{false, false, false, false, true}},
		{"no silence", []error{io.EOF, io.EOF, io.EOF}, []bool{false, false, false}},
		{"silence as go-imap's text", []error{silent, errors.New("in response: " + silent.Error())}, []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b SilenceBudget
			for i, err := range tt.errs {
				if got := b.Exhausted(err); got != tt.want[i] {
					t.Errorf("failure %d (%v): Exhausted = %v, want %v", i, err, got, tt.want[i])
				}
			}
		})
	}
}

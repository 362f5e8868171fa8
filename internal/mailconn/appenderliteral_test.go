package mailconn

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeMessage is a message of CRLF lines, exactly size bytes (at least
// 50), different for each n.
func fakeMessage(n, size int) []byte {
	b := fmt.Appendf(nil, "Subject: message %d\r\n\r\n", n)
	for {
		line := fmt.Sprintf("line %d of message %d\r\n", len(b), n)
		if len(b)+len(line) > size-2 {
			break
		}
		b = append(b, line...)
	}
	b = append(b, bytes.Repeat([]byte("x"), size-2-len(b))...)
	return append(b, "\r\n"...)
}

var appendDate = time.Date(2022, 3, 4, 5, 6, 7, 0, time.UTC)

// TestAppenderLiterals sends one message per APPEND, pipelined, to servers
// with and without LITERAL+ (and with LITERAL-, non-synchronizing up to
// 4096 bytes only), one with a size limit: the literals are synchronizing
// exactly where they must be, the bytes arrive as sent, and a refused
// message gets its NO in order while the others land. A refused
// synchronizing literal is never sent.
func TestAppenderLiterals(t *testing.T) {
	sizes := []int{100, 5000, 30000, 4096, 300}
	for _, tc := range []struct {
		name, caps  string
		maxSize     int64
		sync        func(size int) bool
		literalPlus bool
	}{
		{"LITERAL+", "IMAP4rev1 LITERAL+ UIDPLUS", 0, func(int) bool { return false }, true},
		{"synchronizing", "IMAP4rev1 UIDPLUS", 0, func(int) bool { return true }, false},
		{"LITERAL-", "IMAP4rev1 LITERAL- UIDPLUS", 0, func(n int) bool { return n > 4096 }, false},
		{"synchronizing, one refused", "IMAP4rev1 UIDPLUS", 10000, func(int) bool { return true }, false},
		{"LITERAL+, one refused", "IMAP4rev1 LITERAL+ UIDPLUS", 10000, func(int) bool { return false }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeAppendIMAP(t, "* OK fake ready", tc.caps, tc.maxSize)
			a := dialAppender(t, srv.Addr, Options{})
			if a.LiteralPlus() != tc.literalPlus {
				t.Errorf("LiteralPlus() = %v", a.LiteralPlus())
			}
			refused := func(size int) bool { return tc.maxSize > 0 && int64(size) > tc.maxSize }
			for i, size := range sizes {
				a.Select("INBOX")
				a.BeginAppend("INBOX")
				err := a.AppendMessage([]string{`\Seen`}, appendDate, false, int64(size), bytes.NewReader(fakeMessage(i, size)))
				if want := refused(size) && tc.sync(size); want != errors.Is(err, ErrLiteralRefused) || err != nil && !want {
					t.Fatalf("message %d: AppendMessage: %v (refusal expected: %v)", i, err, want)
				}
				if err := a.EndAppend(); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Flush(); err != nil {
				t.Fatal(err)
			}
			if n := a.Pending(); n != len(sizes) {
				t.Errorf("Pending() = %d, want %d", n, len(sizes))
			}
			var uid uint32
			for i, size := range sizes {
				res, err := a.Result()
				var ce *CommandError
				if refused(size) {
					if !errors.As(err, &ce) || ce.Status != "NO" || !strings.Contains(ce.Text, "too large") {
						t.Errorf("message %d: Result: %v, want the server's NO", i, err)
					}
					continue
				}
				uid++
				if err != nil || len(res.UIDs) != 1 || res.UIDs[0] != uid || res.UIDValidity != 7 {
					t.Errorf("message %d: Result: %+v %v, want UID %d", i, res, err, uid)
				}
			}
			got := srv.appends()
			if len(got) != len(sizes) {
				t.Fatalf("server got %d APPENDs, want %d", len(got), len(sizes))
			}
			for i, size := range sizes {
				c := got[i]
				if refused(size) && tc.sync(size) {
					if !c.refused || len(c.literals) != 0 {
						t.Errorf("message %d: refused literal sent anyway: %+v", i, c)
					}
					continue
				}
				if len(c.literals) != 1 || c.literals[0].sync != tc.sync(size) || c.literals[0].binary ||
					!bytes.Equal(c.literals[0].data, fakeMessage(i, size)) {
					t.Errorf("message %d (%d bytes): wrong literal in %q", i, size, c.line)
				}
				if want := `APPEND "INBOX" (\Seen) "04-Mar-2022 05:06:07 +0000" `; !strings.Contains(c.line, want) {
					t.Errorf("message %d: %q does not contain %q", i, c.line, want)
				}
			}
		})
	}
}

// TestAppenderMultiAppendSynchronizing sends groups of messages in one
// APPEND each with synchronizing literals: a group lands whole, and one
// whose second message is refused ends there (nothing more of it is
// sent) with its NO in order between the others' results.
func TestAppenderMultiAppendSynchronizing(t *testing.T) {
	srv := startFakeAppendIMAP(t, "* OK fake ready", "IMAP4rev1 MULTIAPPEND UIDPLUS", 10000)
	a := dialAppender(t, srv.Addr, Options{})
	groups := [][]int{{100, 6000, 200}, {100, 20000, 300}, {50}}
	n := 0
	for g, sizes := range groups {
		a.Select("Archive")
		a.BeginAppend("Archive")
		for i, size := range sizes {
			err := a.AppendMessage(nil, appendDate, false, int64(size), bytes.NewReader(fakeMessage(n, size)))
			n++
			if refused := g == 1 && i >= 1; refused != errors.Is(err, ErrLiteralRefused) || err != nil && !refused {
				t.Fatalf("group %d message %d: %v", g, i, err)
			}
		}
		if err := a.EndAppend(); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	res, err := a.Result()
	if err != nil || fmt.Sprint(res.UIDs) != "[1 2 3]" {
		t.Errorf("group 0: %+v %v", res, err)
	}
	var ce *CommandError
	if _, err := a.Result(); !errors.As(err, &ce) {
		t.Errorf("group 1: %v, want the server's NO", err)
	}
	if res, err := a.Result(); err != nil || fmt.Sprint(res.UIDs) != "[4]" {
		t.Errorf("group 2: %+v %v", res, err)
	}
	got := srv.appends()
	if len(got) != 3 || len(got[0].literals) != 3 || len(got[1].literals) != 1 || !got[1].refused || len(got[2].literals) != 1 {
		t.Fatalf("server got %+v", got)
	}
	if !bytes.Equal(got[0].literals[1].data, fakeMessage(1, 6000)) || !bytes.Equal(got[2].literals[0].data, fakeMessage(6, 50)) {
		t.Error("bytes differ")
	}
}

// TestAppenderBinary sends a message with NUL bytes as a binary literal
// (~{n}) where the server has BINARY, and refuses to where it has not,
// before writing anything: the connection stays in step.
func TestAppenderBinary(t *testing.T) {
	msg := []byte("Subject: binary\r\n\r\n\x00\x01\xff\r\nend\x00\r\n")
	for _, tc := range []struct {
		name, caps string
		sync       bool
	}{
		{"synchronizing", "IMAP4rev1 BINARY UIDPLUS", true},
		{"LITERAL+", "IMAP4rev1 BINARY LITERAL+ UIDPLUS", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeAppendIMAP(t, "* OK fake ready", tc.caps, 0)
			a := dialAppender(t, srv.Addr, Options{})
			if !a.Binary() {
				t.Fatal("Binary() = false")
			}
			if err := a.Append("INBOX", nil, appendDate, true, int64(len(msg)), bytes.NewReader(msg)); err != nil {
				t.Fatal(err)
			}
			if err := a.Flush(); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Result(); err != nil {
				t.Fatal(err)
			}
			got := srv.appends()
			if len(got) != 1 || len(got[0].literals) != 1 {
				t.Fatalf("server got %+v", got)
			}
			if l := got[0].literals[0]; !l.binary || l.sync != tc.sync || !bytes.Equal(l.data, msg) {
				t.Errorf("literal %+v in %q, want the message byte for byte in a binary literal", l, got[0].line)
			}
		})
	}

	t.Run("server without BINARY", func(t *testing.T) {
		srv := startFakeAppendIMAP(t, "* OK fake ready", "IMAP4rev1 LITERAL+ UIDPLUS", 0)
		wire := &wireRecorder{target: srv.Addr}
		a := dialAppender(t, "127.0.0.1:1", Options{DialContext: wire.dial})
		if a.Binary() {
			t.Fatal("Binary() = true")
		}
		a.Select("INBOX")
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		before := wire.sentBytes()
		a.BeginAppend("INBOX")
		if err := a.AppendMessage(nil, appendDate, true, int64(len(msg)), bytes.NewReader(msg)); !errors.Is(err, ErrNoBinary) {
			t.Fatalf("AppendMessage: %v, want ErrNoBinary", err)
		}
		if err := a.EndAppend(); err == nil {
			t.Error("EndAppend of an APPEND without a message succeeded")
		}
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		if sent := wire.sentBytes(); sent != before {
			t.Errorf("wrote %q after the refusal", sent[len(before):])
		}
		if n := a.Pending(); n != 0 {
			t.Errorf("Pending() = %d", n)
		}
		if err := a.Append("INBOX", nil, appendDate, false, 5, strings.NewReader("x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		if res, err := a.Result(); err != nil || len(res.UIDs) != 1 {
			t.Errorf("APPEND after the refusal: %+v %v", res, err)
		}
	})
}

// TestAppenderSenderAndReader runs the importer's pattern under -race: one
// goroutine sends groups of messages and hands each flushed group to a
// second goroutine that reads its result, while the server, without
// LITERAL+, makes the sender wait for continuations that the reader may
// be the one to read. Some messages are refused at their literal.
func TestAppenderSenderAndReader(t *testing.T) {
	const maxSize = 3000
	for _, caps := range []string{"IMAP4rev1 MULTIAPPEND UIDPLUS", "IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS"} {
		t.Run(caps, func(t *testing.T) {
			srv := startFakeAppendIMAP(t, "* OK fake ready", caps, maxSize)
			a := dialAppender(t, srv.Addr, Options{})
			type outcome struct {
				refused bool // some message over maxSize
				n       int
			}
			sent := make(chan outcome, 100)
			results := make(chan error, 100)
			go func() {
				defer close(results)
				for want := range sent {
					res, err := a.Result()
					var ce *CommandError
					switch {
					case want.refused && !errors.As(err, &ce):
						err = fmt.Errorf("group %+v: %v, want NO", want, err)
					case !want.refused && (err != nil || len(res.UIDs) != want.n):
						err = fmt.Errorf("group %+v: %+v %v", want, res, err)
					default:
						err = nil
					}
					results <- err
				}
			}()
			for g := range 40 {
				var o outcome
				a.Select(fmt.Sprintf("folder %d", g%3))
				a.BeginAppend(fmt.Sprintf("folder %d", g%3))
				for i := range g%3 + 1 {
					size := 200 + (g*7+i*13)%40*100
					err := a.AppendMessage(nil, appendDate, false, int64(size), bytes.NewReader(fakeMessage(g*10+i, size)))
					if err != nil && !errors.Is(err, ErrLiteralRefused) {
						t.Fatal(err)
					}
					o.refused = o.refused || size > maxSize
					o.n++
				}
				if err := a.EndAppend(); err != nil {
					t.Fatal(err)
				}
				if err := a.Flush(); err != nil {
					t.Fatal(err)
				}
				sent <- o
			}
			close(sent)
			n := 0
			for err := range results {
				n++
				if err != nil {
					t.Error(err)
				}
			}
			if n != 40 {
				t.Errorf("%d results, want 40", n)
			}
		})
	}
}

// TestAppenderSilentServer: a server that stops answering fails the
// Appender's wait after the silence allowed (Options.Timeout), as a
// connection error that names the silence, both
// where Result waits for an answer and where the sender waits for a
// continuation.
func TestAppenderSilentServer(t *testing.T) {
	for _, caps := range []string{"IMAP4rev1 LITERAL+", "IMAP4rev1"} {
		t.Run(caps, func(t *testing.T) {
			silent := func(tag, cmd string) ([]string, bool, bool) {
				return nil, false, strings.HasPrefix(cmd, "APPEND")
			}
			srv := startFakeIMAP(t, "* OK fake ready", caps, silent)
			a := dialAppender(t, srv.Addr, Options{Timeout: 300 * time.Millisecond})
			start := time.Now()
			err := a.Append("INBOX", nil, appendDate, false, 5, strings.NewReader("x\r\n\r\n"))
			if err == nil {
				if err = a.Flush(); err == nil {
					_, err = a.Result()
				}
			}
			if !IsConnectionError(err) || !IsSilence(err) {
				t.Errorf("error %v, want a connection error naming the silence", err)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %v with a 300ms timeout", el)
			}
		})
	}
}

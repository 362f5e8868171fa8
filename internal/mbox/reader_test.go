package mbox

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

// handMbox is an mbox as mutt, Dovecot and Thunderbird leave them: mbox
// state headers, a folded X-Keywords, mboxrd quoting, CRLF messages, no
// empty line before one From_ line, and UW-IMAP's pseudo message.
const handMbox = "\n" +
	"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n" +
	"Date: 08 Jul 2011 12:08:34 +0000\n" +
	"From: Mail System Internal Data <MAILER-DAEMON@example.com>\n" +
	"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n" +
	"X-IMAP: 1310126914 0000000002\n" +
	"Status: RO\n" +
	"\n" +
	"This text is part of the internal format of your mail folder.\n" +
	"\n" +
	"From alice@example.com Mon Jan  8 08:14:03 2024\n" +
	"Return-Path: <alice@example.com>\n" +
	"Subject: one\n" +
	"Status: RO\n" +
	"X-Status: AF\n" +
	"X-Keywords: $label1,Project-X\n" +
	"  Later\n" +
	"X-UID: 7\n" +
	"Content-Length: 999\n" +
	"\n" +
	">From the start\n" +
	">>From quoted\n" +
	">>>From twice\n" +
	"> From not quoted\n" +
	">Fromage\n" +
	"From: not a separator\n" +
	"\n" +
	"\n" +
	"From bob@example.org  Tue Jan  9 16:02:11 2024\n" +
	"Subject: two\r\n" +
	"status: O\r\n" +
	"X-Status: TD\r\n" +
	"\r\n" +
	"crlf body\r\n" +
	"\r\n" +
	"From carol@example.net Wed Jan 10 10:45:30 2024 +0100\n" +
	"Subject: three, no empty line before the next From_ line\n" +
	"X-Mozilla-Status: 1003\n" +
	"\n" +
	"body\n" +
	"From - Thu Jan 11 11:11:11 2024\n" +
	"Subject: four, headers only\n" +
	"From nobody garbled date\n" +
	"Subject: five\n" +
	"\n" +
	"last line without newline"

func TestReaderHandWritten(t *testing.T) {
	type want struct {
		sender string
		date   time.Time
		flags  format.Flags
		pseudo bool
		data   string
	}
	wants := []want{
		{"MAILER-DAEMON", time.Date(2011, 7, 8, 12, 8, 34, 0, time.UTC), format.Flags{format.FlagSeen}, true,
			"Date: 08 Jul 2011 12:08:34 +0000\nFrom: Mail System Internal Data <MAILER-DAEMON@example.com>\n" +
				"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n\n" +
				"This text is part of the internal format of your mail folder.\n"},
		{"alice@example.com", time.Date(2024, 1, 8, 8, 14, 3, 0, time.UTC),
			format.Flags{"$label1", "Later", "Project-X", format.FlagAnswered, format.FlagFlagged, format.FlagSeen}, false,
			"Return-Path: <alice@example.com>\nSubject: one\nContent-Length: 999\n\n" +
				"From the start\n>From quoted\n>>From twice\n> From not quoted\n>Fromage\nFrom: not a separator\n\n"},
		{"bob@example.org", time.Date(2024, 1, 9, 16, 2, 11, 0, time.UTC), format.Flags{format.FlagDeleted, format.FlagDraft}, false,
			"Subject: two\r\n\r\ncrlf body\r\n"},
		{"carol@example.net", time.Date(2024, 1, 10, 10, 45, 30, 0, time.FixedZone("", 3600)),
			format.Flags{format.FlagAnswered, format.FlagForwarded, format.FlagSeen}, false,
			"Subject: three, no empty line before the next From_ line\nX-Mozilla-Status: 1003\n\nbody\n"},
		{"-", time.Date(2024, 1, 11, 11, 11, 11, 0, time.UTC), format.Flags{}, false, "Subject: four, headers only\n"},
		{"nobody", time.Time{}, format.Flags{}, false, "Subject: five\n\nlast line without newline"},
	}
	r := NewReader(strings.NewReader(handMbox))
	for i, w := range wants {
		m, body, err := r.Next()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		data, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != w.data {
			t.Errorf("message %d: bytes\n%q\nwant\n%q", i, data, w.data)
		}
		if m.Sender != w.sender || !m.FromLineDate.Equal(w.date) || !slices.Equal(m.Flags, format.NormalizeFlags(w.flags)) || m.Pseudo != w.pseudo {
			t.Errorf("message %d: %q %v %q pseudo %v, want %q %v %q %v", i, m.Sender, m.FromLineDate, m.Flags, m.Pseudo,
				w.sender, w.date, format.NormalizeFlags(w.flags), w.pseudo)
		}
		if (m.DateErr != nil) != w.date.IsZero() {
			t.Errorf("message %d: DateErr %v", i, m.DateErr)
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last message: %v, want io.EOF", err)
	}
}

// TestReaderSkipsUnreadBodies calls Next without reading bodies, or reading
// only part of one.
func TestReaderSkipsUnreadBodies(t *testing.T) {
	r := NewReader(strings.NewReader(handMbox))
	var subjects []string
	for {
		_, body, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 20)
		n, _ := io.ReadFull(body, buf)
		subjects = append(subjects, string(buf[:n]))
	}
	if len(subjects) != 6 {
		t.Errorf("read %d messages: %q", len(subjects), subjects)
	}
}

func TestReaderNotMbox(t *testing.T) {
	for _, in := range []string{"Subject: x\n\nbody\n", "\n\nFrom: x\n", ">From x\n"} {
		if _, _, err := NewReader(strings.NewReader(in)).Next(); !errors.Is(err, ErrNotMbox) {
			t.Errorf("%q: %v, want ErrNotMbox", in, err)
		}
	}
	for _, in := range []string{"", "\n", "\r\n\n"} {
		if _, _, err := NewReader(strings.NewReader(in)).Next(); err != io.EOF {
			t.Errorf("%q: %v, want io.EOF", in, err)
		}
	}
}

func TestParseFromLine(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	tests := []struct {
		line   string
		sender string
		date   time.Time // zero: a date error
	}{
		{"From MAILER-DAEMON Fri Jul  8 12:08:34 2011", "MAILER-DAEMON", utc(2011, 7, 8, 12, 8, 34)},
		{"From user@example.com Sat Jan  3 01:05:34 1996", "user@example.com", utc(1996, 1, 3, 1, 5, 34)},
		{"From - Sat Jan 03 01:05:34 1996", "-", utc(1996, 1, 3, 1, 5, 34)},
		{"From a@b Mon Jan 15 09:12:00 2024 +0100", "a@b", time.Date(2024, 1, 15, 9, 12, 0, 0, time.FixedZone("", 3600))},
		{"From a@b Mon Jan 15 09:12:00 -0500 2024", "a@b", time.Date(2024, 1, 15, 9, 12, 0, 0, time.FixedZone("", -5*3600))},
		{"From a@b Wed Dec  2 05:53 PST 1992", "a@b", time.Date(1992, 12, 2, 5, 53, 0, 0, time.FixedZone("", -8*3600))},
		{"From a@b Tue Jun 13 09:31:07 MET DST 2000", "a@b", utc(2000, 6, 13, 9, 31, 7)},
		{"From a@b Fri, 8 Jul 2011 12:08:34 +0200", "a@b", time.Date(2011, 7, 8, 12, 8, 34, 0, time.FixedZone("", 2*3600))},
		{"From a@b Thu Feb 16 14:30:00 2006 remote from uucphost", "a@b", utc(2006, 2, 16, 14, 30, 0)},
		{`From "john doe"@example.com Mon Jan  1 00:00:00 2024`, `"john doe"@example.com`, utc(2024, 1, 1, 0, 0, 0)},
		{"From a@b  Wed Jan 10 10:45:30 2024\r", "a@b", utc(2024, 1, 10, 10, 45, 30)},
		{"From a@b Jan 10 10:45:30 2024", "a@b", utc(2024, 1, 10, 10, 45, 30)},
		{"From a@b Mon Feb 30 10:00:00 2024", "a@b", time.Time{}},
		{"From a@b Mon Jan 1 25:00:00 2024", "a@b", time.Time{}},
		{"From a@b Mon Jan 1 10:00:00 24", "a@b", time.Time{}},
		{"From a@b yesterday", "a@b", time.Time{}},
		{"From a@b Fri Dec 31 23:00:00 9999 -1400", "a@b", time.Time{}},
		{"From ", "", time.Time{}},
	}
	for _, tt := range tests {
		sender, date, err := parseFromLine(strings.TrimRight(tt.line, "\r"))
		if sender != tt.sender {
			t.Errorf("%q: sender %q, want %q", tt.line, sender, tt.sender)
		}
		if tt.date.IsZero() {
			if err == nil || !date.IsZero() {
				t.Errorf("%q: date %v, %v; want an error", tt.line, date, err)
			}
			continue
		}
		_, off := date.Zone()
		_, wantOff := tt.date.Zone()
		if err != nil || !date.Equal(tt.date) || off != wantOff {
			t.Errorf("%q: date %v, %v; want %v", tt.line, date, err, tt.date)
		}
	}
}

// endless yields a message with an n-byte body without holding it.
type endless struct {
	head []byte
	n    int
}

func (e *endless) Read(p []byte) (int, error) {
	if len(e.head) > 0 {
		c := copy(p, e.head)
		e.head = e.head[c:]
		return c, nil
	}
	if e.n == 0 {
		return 0, io.EOF
	}
	line := []byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4\n")
	c := 0
	for c+len(line) <= len(p) && e.n >= len(line) {
		c += copy(p[c:], line)
		e.n -= len(line)
	}
	if c == 0 {
		c = copy(p, bytes.Repeat([]byte("x"), min(len(p), e.n)))
		e.n -= c
	}
	return c, nil
}

// TestStreaming passes a 60 MB message through Writer and Reader and checks
// that neither holds it in memory.
func TestStreaming(t *testing.T) {
	const size = 77 * 800_000 // whole 77-byte lines
	head := "From a@b Mon Jan  1 00:00:00 2024\nSubject: big\nStatus: RO\n\n"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	pr, pw := io.Pipe()
	go func() {
		r := NewReader(&endless{head: []byte(head), n: size})
		m, body, err := r.Next()
		if err == nil {
			err = NewWriter(pw).Write(m, body)
		}
		pw.CloseWithError(err)
	}()
	m, body, err := NewReader(pr).Next()
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, body)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if want := int64(len("Subject: big\n\n") + size); n != want {
		t.Errorf("read %d bytes, want %d", n, want)
	}
	if !m.Flags.Has(format.FlagSeen) {
		t.Errorf("flags %q", m.Flags)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d bytes for a %d byte message", alloc, size)
	}
}

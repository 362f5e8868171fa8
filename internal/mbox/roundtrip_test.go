package mbox

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

const corpusDir = "../../testdata/corpus"

func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if err != nil || len(files) < 15 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	return files
}

// withNewline returns what a Reader gives back for message data a Writer
// wrote: data with a line ending added if its last line had none.
func withNewline(data []byte) []byte {
	if len(data) == 0 || data[len(data)-1] == '\n' {
		return data
	}
	if data[len(data)-1] == '\r' {
		return append(slices.Clip(data), '\n')
	}
	eol := "\n"
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		eol = "\r\n"
	}
	return append(slices.Clip(data), eol...)
}

// TestRoundTrip writes every corpus message into one mbox with flags and
// dates and reads them back.
func TestRoundTrip(t *testing.T) {
	flagSets := []format.Flags{
		{},
		{format.FlagSeen},
		{format.FlagSeen, format.FlagAnswered, format.FlagFlagged},
		{format.FlagDraft, format.FlagDeleted, "$label1"},
		{format.FlagSeen, "$label1", "Project-X", "$Forwarded"},
		{`\seen`, `\Recent`, `\Custom`},
	}
	type want struct {
		data  []byte
		flags format.Flags
		date  time.Time
	}
	var wants []want
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i, path := range corpusFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		flags := flagSets[i%len(flagSets)]
		date := time.Date(2024, 2, 1+i, 23, 59, 58, 999999999, time.FixedZone("", -5*3600))
		m := Message{FromLineDate: date, Flags: flags}
		if err := w.Write(m, bytes.NewReader(data)); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
		wants = append(wants, want{withNewline(data), format.NormalizeFlags(flags), date.Truncate(time.Second).UTC()})
	}

	r := NewReader(bytes.NewReader(buf.Bytes()))
	for i := 0; ; i++ {
		m, body, err := r.Next()
		if err == io.EOF {
			if i != len(wants) {
				t.Errorf("read %d messages, wrote %d", i, len(wants))
			}
			break
		}
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		data, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(wants) {
			t.Fatalf("more messages than written")
		}
		if !bytes.Equal(data, wants[i].data) {
			t.Errorf("message %d: bytes differ (%d, want %d):\n%s", i, len(data), len(wants[i].data), firstDiff(data, wants[i].data))
		}
		if !slices.Equal(m.Flags, wants[i].flags) {
			t.Errorf("message %d: flags %q, want %q", i, m.Flags, wants[i].flags)
		}
		if m.DateErr != nil || !m.FromLineDate.Equal(wants[i].date) || m.FromLineDate.Location() != time.UTC {
			t.Errorf("message %d: date %v (%v), want %v", i, m.FromLineDate, m.DateErr, wants[i].date)
		}
	}
}

func firstDiff(a, b []byte) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			lo := max(0, i-40)
			return "got  " + string(a[lo:min(len(a), i+40)]) + "\nwant " + string(b[lo:min(len(b), i+40)])
		}
	}
	return "one is a prefix of the other"
}

func TestWriteSender(t *testing.T) {
	date := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		sender, msg, wantLine string
	}{
		{"", "Return-Path: <bounce@example.org>\nSubject: x\n\nbody\n", "From bounce@example.org Tue Jan  2 03:04:05 2024\n"},
		{"", "Return-path: <>\r\nSubject: x\r\n\r\nbody\r\n", "From MAILER-DAEMON Tue Jan  2 03:04:05 2024\r\n"},
		{"", "Subject: no return path\n\nbody\n", "From MAILER-DAEMON Tue Jan  2 03:04:05 2024\n"},
		{"alice@example.com", "Return-Path: <bounce@example.org>\n\n", "From alice@example.com Tue Jan  2 03:04:05 2024\n"},
		{"two words", "Subject: x\n\n", "From MAILER-DAEMON Tue Jan  2 03:04:05 2024\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := NewWriter(&buf).Write(Message{Sender: tt.sender, FromLineDate: date}, bytes.NewReader([]byte(tt.msg))); err != nil {
			t.Fatal(err)
		}
		line, _, _ := bytes.Cut(buf.Bytes(), []byte("\n"))
		if got := string(line) + "\n"; got != tt.wantLine {
			t.Errorf("sender %q, message %q: From_ line %q, want %q", tt.sender, tt.msg, got, tt.wantLine)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	msg := func() io.Reader { return bytes.NewReader([]byte("Subject: x\n\nbody\n")) }
	if err := w.Write(Message{}, msg()); !errors.Is(err, ErrNoDate) {
		t.Errorf("no date: %v, want ErrNoDate", err)
	}
	date := time.Now()
	for _, kw := range []string{"two words", "com,ma", "new\nline"} {
		if err := w.Write(Message{FromLineDate: date, Flags: format.Flags{kw}}, msg()); !errors.Is(err, ErrKeyword) {
			t.Errorf("keyword %q: %v, want ErrKeyword", kw, err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("refused messages wrote %q", buf.Bytes())
	}
	// The Writer is still usable.
	if err := w.Write(Message{FromLineDate: date}, msg()); err != nil {
		t.Fatal(err)
	}
}

// TestWriteHeaderTooLong writes a message whose header section is over
// headerCap: it is written whole, without flags.
func TestWriteHeaderTooLong(t *testing.T) {
	var msg bytes.Buffer
	for msg.Len() <= headerCap {
		msg.WriteString("X-Filler: 0123456789012345678901234567890123456789012345678901234567890123456789\n")
	}
	msg.WriteString("Status: RO\n\nbody\n")
	var buf bytes.Buffer
	err := NewWriter(&buf).Write(Message{FromLineDate: time.Now(), Flags: format.Flags{format.FlagSeen}}, bytes.NewReader(msg.Bytes()))
	if !errors.Is(err, ErrFlagsDropped) {
		t.Fatalf("Write = %v, want ErrFlagsDropped", err)
	}
	m, body, err := NewReader(&buf).Next()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(body)
	if !bytes.Equal(data, msg.Bytes()) || len(m.Flags) != 0 {
		t.Errorf("read back %d bytes (want %d), flags %q", len(data), msg.Len(), m.Flags)
	}
}

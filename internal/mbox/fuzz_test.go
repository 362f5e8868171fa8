package mbox

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"
)

// FuzzMboxReader feeds arbitrary input to a Reader, which must not panic,
// then writes what it read with a Writer and reads that back: the same
// bytes (plus the line ending a Writer adds to a last line without one),
// flags and date.
func FuzzMboxReader(f *testing.F) {
	f.Add([]byte(handMbox))
	for _, p := range []string{"../../testdata/mbox/INBOX", "../../testdata/mbox/Archive.sbd/2023"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("From a Mon Jan  1 00:00:00 2024\n\n\nFrom b\n>From c\n>>From d\nFrom e Tue Feb 29 12:00:00 2000 +0100\r\nStatus: R\r\n X\r\n\r\n"))
	f.Add([]byte("From x\nX-Keywords: a,b c\nX-Status: ADFT\nX-Mozilla-Status: 000f\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		type msg struct {
			m    Message
			data []byte
		}
		var msgs []msg
		r := NewReader(bytes.NewReader(in))
		for len(msgs) < 100 {
			m, body, err := r.Next()
			if err != nil {
				break
			}
			data, err := io.ReadAll(body)
			if err != nil {
				t.Fatalf("body: %v", err)
			}
			msgs = append(msgs, msg{m, data})
		}

		var buf bytes.Buffer
		w := NewWriter(&buf)
		fallback := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
		for _, x := range msgs {
			m := x.m
			if m.FromLineDate.IsZero() {
				m.FromLineDate = fallback
			}
			if err := w.Write(m, bytes.NewReader(x.data)); err != nil && !errors.Is(err, ErrFlagsDropped) {
				t.Fatalf("write %q with %q: %v", x.data, m.Flags, err)
			}
		}
		r = NewReader(bytes.NewReader(buf.Bytes()))
		for i, x := range msgs {
			m, body, err := r.Next()
			if err != nil {
				t.Fatalf("message %d of %q: %v", i, buf.Bytes(), err)
			}
			data, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			if want := withNewline(x.data); !bytes.Equal(data, want) {
				t.Fatalf("message %d: read back %q, want %q (mbox %q)", i, data, want, buf.Bytes())
			}
			if !slices.Equal(m.Flags, x.m.Flags) {
				t.Fatalf("message %d: flags %q, want %q", i, m.Flags, x.m.Flags)
			}
			want := x.m.FromLineDate
			if want.IsZero() {
				want = fallback
			}
			if !m.FromLineDate.Equal(want) || m.DateErr != nil {
				t.Fatalf("message %d: date %v (%v), want %v", i, m.FromLineDate, m.DateErr, want)
			}
		}
		if _, _, err := r.Next(); err != io.EOF {
			t.Fatalf("after %d messages: %v, want io.EOF", len(msgs), err)
		}
	})
}

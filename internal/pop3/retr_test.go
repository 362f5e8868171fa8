package pop3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// unstuffCases are multi-line bodies as sent on the wire (after +OK) and
// the bytes Retr must give for them.
var unstuffCases = []struct {
	name string
	wire string
	want string
}{
	{"plain lines", "Subject: a\r\n\r\nbody\r\n.\r\n", "Subject: a\r\n\r\nbody\r\n"},
	{"empty message", ".\r\n", ""},
	{"empty lines", "\r\n\r\n.\r\n", "\r\n\r\n"},
	{"line that is a dot", "a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n"},
	{"line starting with a dot", "..hidden\r\n.\r\n", ".hidden\r\n"},
	{"line starting with two dots", "...\r\n....x\r\n.\r\n", "..\r\n...x\r\n"},
	{"first line is a dot", "..\r\n.\r\n", ".\r\n"},
	// RFC 1939 strips the first octet of any dot line but the terminator,
	// so a server that forgot to stuff loses that dot: the RFC's reading.
	{"unstuffed dot line from a lax server", ".x\r\n.\r\n", "x\r\n"},
	{"dots inside and at the end of lines", "a.b\r\nend.\r\n..\r\n.\r\n", "a.b\r\nend.\r\n.\r\n"},
	{"bare LF stays", "a\nb\r\nc\n\r\n.\r\n", "a\nb\r\nc\n\r\n"},
	// After a bare LF no new line starts: the dot is content, kept.
	{"dot after bare LF is content", "a\n.b\r\n.\r\n", "a\n.b\r\n"},
	{"dot line after bare LF is not the end", "a\n.\r\n.\r\n", "a\n.\r\n"},
	{"bare CR stays", "a\rb\r\r\n.\r\n", "a\rb\r\r\n"},
	{"8-bit and NUL bytes", "caf\xe9 \xff\x00\x80\r\n..\xe9\r\n.\r\n", "caf\xe9 \xff\x00\x80\r\n.\xe9\r\n"},
	// A message without a final line end arrives with the CRLF the server
	// had to add before the terminator; the client cannot tell.
	{"server-added final CRLF", "no newline at end\r\n.\r\n", "no newline at end\r\n"},
	{"long line", ".." + strings.Repeat("x", 70000) + "\r\n..\r\n.\r\n", "." + strings.Repeat("x", 70000) + "\r\n.\r\n"},
	{"CRLF at the read buffer's edge", strings.Repeat("y", readBufferSize-1) + "\r\n..z\r\n.\r\n", strings.Repeat("y", readBufferSize-1) + "\r\n.z\r\n"},
	{"line of exactly the read buffer", strings.Repeat("y", readBufferSize) + "\r\n..z\r\n.\r\n", strings.Repeat("y", readBufferSize) + "\r\n.z\r\n"},
}

func TestRetrUnstuffs(t *testing.T) {
	for _, tt := range unstuffCases {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(t, func(s *fakeServer) {
				s.expect("RETR 1")
				s.send("+OK message follows\r\n" + tt.wire)
				// The terminator must be consumed exactly: the next
				// answer is read as an answer.
				s.expect("NOOP")
				s.reply("+OK")
			})
			ctx := testContext(t)
			r, err := c.Retr(ctx, 1)
			if err != nil {
				t.Fatalf("Retr: %v", err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Retr gave %q, want %q", trim(got), trim([]byte(tt.want)))
			}
			if err := r.Close(); err != nil {
				t.Errorf("Close after EOF: %v", err)
			}
			if err := c.Noop(ctx); err != nil {
				t.Errorf("Noop after Retr: %v", err)
			}
		})
	}
}

// TestDotReaderPieces feeds the same bodies one byte at a time through the
// smallest bufio buffer, so every line is cut at every possible place.
func TestDotReaderPieces(t *testing.T) {
	for _, tt := range unstuffCases {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(tt.wire+"NEXT")), 16)
			got, err := io.ReadAll(iotest.OneByteReader(newDotReader(br)))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", trim(got), trim([]byte(tt.want)))
			}
			if rest, _ := io.ReadAll(br); string(rest) != "NEXT" {
				t.Errorf("left %q after the body, want %q", rest, "NEXT")
			}
		})
	}
}

// trim shortens long test values in failure messages.
func trim(b []byte) string {
	if len(b) > 80 {
		return string(b[:40]) + "..." + string(b[len(b)-40:])
	}
	return string(b)
}

func TestRetrTruncated(t *testing.T) {
	tests := []struct {
		name string
		wire string
	}{
		{"no terminator", "a\r\nb\r\n"},
		{"cut mid-line", "a\r\nb"},
		// A server that does not end the last line before the terminator
		// sends no terminator at all.
		{"terminator glued to the last line", "abc.\r\n"},
		{"cut in the terminator", "a\r\n.\r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(t, func(s *fakeServer) {
				s.expect("RETR 1")
				s.send("+OK\r\n" + tt.wire)
			})
			ctx := testContext(t)
			r, err := c.Retr(ctx, 1)
			if err != nil {
				t.Fatalf("Retr: %v", err)
			}
			_, err = io.ReadAll(r)
			if !errors.Is(err, io.ErrUnexpectedEOF) || !IsConnectionError(err) {
				t.Fatalf("read error = %v, want a connection error matching io.ErrUnexpectedEOF", err)
			}
			if err := c.Noop(ctx); !IsConnectionError(err) {
				t.Errorf("Noop after a cut message = %v, want a connection error", err)
			}
		})
	}
}

func TestRetrCloseDrains(t *testing.T) {
	body := strings.Repeat("line of text\r\n..dotted\r\n", 50000) // about 1.2 MB
	c := fakeClient(t, func(s *fakeServer) {
		s.expect("RETR 1")
		s.send("+OK\r\n" + body + ".\r\n")
		s.expect("RETR 2")
		s.send("+OK\r\nsecond\r\n.\r\n")
		s.expect("NOOP")
		s.reply("+OK")
	})
	ctx := testContext(t)
	r, err := c.Retr(ctx, 1)
	if err != nil {
		t.Fatalf("Retr 1: %v", err)
	}
	head := make([]byte, 100)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatalf("read start: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close mid-message: %v", err)
	}
	if n, err := r.Read(head); n != 0 || err != io.EOF {
		t.Errorf("Read after Close = %d, %v; want 0, EOF", n, err)
	}
	r2, err := c.Retr(ctx, 2)
	if err != nil {
		t.Fatalf("Retr 2 after Close: %v", err)
	}
	got, err := io.ReadAll(r2)
	if err != nil || string(got) != "second\r\n" {
		t.Errorf("Retr 2 = %q, %v", got, err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Errorf("Noop: %v", err)
	}
}

// bigMessage writes a message of about size bytes, with dot lines and
// 8-bit bytes, line by line to w (dot-stuffed if stuffed), and returns the
// SHA-256 of the message.
func bigMessage(w io.Writer, size int, stuffed bool) ([32]byte, error) {
	h := sha256.New()
	line := []byte(".x" + strings.Repeat("abcdefgh\xe9", 8) + "\r\n")
	for i, n := 0, 0; n < size; i++ {
		// Every 16th line starts with a dot.
		msgLine := line[1:]
		if i%16 == 0 {
			msgLine = line
		}
		n += len(msgLine)
		h.Write(msgLine)
		out := msgLine
		if stuffed && msgLine[0] == '.' {
			out = append([]byte{'.'}, msgLine...)
		}
		if _, err := w.Write(out); err != nil {
			return [32]byte{}, err
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}

func TestRetrStreamsInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 50 MB")
	}
	const size = 50 << 20
	sums := make(chan [32]byte, 1)
	c := fakeClient(t, func(s *fakeServer) {
		s.expect("RETR 1")
		s.send("+OK\r\n")
		bw := bufio.NewWriterSize(s.conn, 64<<10)
		sum, err := bigMessage(bw, size, true)
		if err == nil {
			_, err = bw.WriteString(".\r\n")
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			t.Errorf("fake server: send message: %v", err)
		}
		sums <- sum
	})

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	r, err := c.Retr(testContext(t), 1)
	if err != nil {
		t.Fatalf("Retr: %v", err)
	}
	h := sha256.New()
	peak := &heapWatcher{}
	n, err := io.Copy(io.MultiWriter(h, peak), r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	grown := int64(peak.max) - int64(before.HeapAlloc)
	t.Logf("read %d bytes; allocated %d KiB in all, heap peak %d KiB above start", n, allocated>>10, grown>>10)
	if n < size {
		t.Errorf("read %d bytes, want at least %d", n, size)
	}
	if want := <-sums; !bytes.Equal(h.Sum(nil), want[:]) {
		t.Errorf("SHA-256 of what Retr gave differs from the message's")
	}
	// The fake server allocates a little too; the client itself should
	// hold no more than its read buffer and io.Copy's.
	if allocated > 8<<20 {
		t.Errorf("allocated %d bytes for a %d byte message", allocated, n)
	}
	if grown > 8<<20 {
		t.Errorf("heap grew %d bytes while streaming a %d byte message", grown, n)
	}
}

// heapWatcher samples the heap every few megabytes written through it.
type heapWatcher struct {
	written, max uint64
}

func (w *heapWatcher) Write(p []byte) (int, error) {
	before := w.written
	w.written += uint64(len(p))
	if w.written>>22 != before>>22 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.max = max(w.max, m.HeapAlloc)
	}
	return len(p), nil
}

func TestRetrHoldsClient(t *testing.T) {
	c := fakeClient(t, func(s *fakeServer) {
		s.expect("RETR 1")
		s.send("+OK\r\nbody\r\n.\r\n")
		s.expect("NOOP")
		s.reply("+OK")
	})
	ctx := testContext(t)
	r, err := c.Retr(ctx, 1)
	if err != nil {
		t.Fatalf("Retr: %v", err)
	}
	var wg sync.WaitGroup
	noop := make(chan error, 1)
	wg.Go(func() { noop <- c.Noop(ctx) })
	select {
	case err := <-noop:
		t.Fatalf("Noop ran while the message was open: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if err := <-noop; err != nil {
		t.Errorf("Noop after Close: %v", err)
	}
}

func TestRetrCancel(t *testing.T) {
	c := fakeClient(t, func(s *fakeServer) {
		s.expect("RETR 1")
		s.send("+OK\r\npart of a message\r\n")
		// ...and then nothing: the client has to give up.
		s.r.ReadString('\n')
	})
	ctx, cancel := context.WithCancel(testContext(t))
	r, err := c.Retr(ctx, 1)
	if err != nil {
		t.Fatalf("Retr: %v", err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = io.ReadAll(r)
	if !errors.Is(err, context.Canceled) || !IsConnectionError(err) {
		t.Fatalf("read error = %v, want a connection error matching context.Canceled", err)
	}
	if err := c.Noop(testContext(t)); !IsConnectionError(err) {
		t.Errorf("Noop after cancelled Retr = %v, want the connection error", err)
	}
}

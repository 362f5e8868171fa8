package transform

import (
	"bytes"
	"crypto/sha256"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mailferry/mailferry/format"
)

// oneByteOpener opens b again on every call, yielding a byte per Read, so
// that a CRLF is always split between two reads.
func oneByteOpener(b []byte) Opener {
	return func() (io.ReadCloser, error) {
		return io.NopCloser(iotest.OneByteReader(bytes.NewReader(b))), nil
	}
}

func TestWireStage(t *testing.T) {
	big := bigMessage()
	bigMixed := bytes.Replace(big, []byte("\n"), []byte("\r\n"), 1000)
	tests := []struct {
		name  string
		in    []byte
		tr    Set
		want  []byte // nil: in, unchanged
		bare  int    // bare LFs sent as CRLF
		nul   bool
		kinds []Kind // beyond KindCRLF
	}{
		{name: "bare LF", in: []byte("Subject: a\n\nbody\n"), want: []byte("Subject: a\r\n\r\nbody\r\n"), bare: 3},
		{name: "mixed", in: []byte("A: 1\r\nB: 2\n\r\nx\ny\r\n"), want: []byte("A: 1\r\nB: 2\r\n\r\nx\r\ny\r\n"), bare: 2},
		{name: "CRLF already", in: []byte("Subject: a\r\n\r\nbody\r\n")},
		{name: "lone CR stays", in: []byte("Subject: a\r\n\r\nold\rmac\r"), bare: 0},
		{name: "lone CR then LF apart", in: []byte("a\r\rb\n\n"), want: []byte("a\r\rb\r\n\r\n"), bare: 2},
		{name: "NUL", in: []byte("Subject: a\n\nx\x00y\n"), want: []byte("Subject: a\r\n\r\nx\x00y\r\n"), bare: 3, nul: true},
		{name: "NUL, CRLF already", in: []byte("Subject: a\r\n\r\n\x00"), nul: true},
		{name: "empty message", in: []byte{}},
		{name: "only an LF", in: []byte("\n"), want: []byte("\r\n"), bare: 1},
		{name: "no final newline", in: []byte("Subject: a\n\nlast line"), want: []byte("Subject: a\r\n\r\nlast line"), bare: 2},
		{name: "LF first", in: []byte("\nSubject: a\n"), want: []byte("\r\nSubject: a\r\n"), bare: 2},
		{name: "big, streamed", in: big, want: toCRLF(big), bare: bytes.Count(big, []byte("\n"))},
		{name: "big, mixed, streamed", in: bigMixed, want: toCRLF(bigMixed), bare: bytes.Count(big, []byte("\n")) - 1000},
		{name: "big, CRLF already, streamed", in: toCRLF(big)},
		{name: "big with a NUL, streamed", in: append(bytes.Clone(big), 0), want: append(toCRLF(big), 0),
			bare: bytes.Count(big, []byte("\n")), nul: true},
		{name: "after header edits", in: []byte("Received: x\nSubject: a\n\nbody\n"),
			tr:   Set{Headers: HeaderEdits{Add: []HeaderAdd{{Name: "X-A", Value: "1"}}}},
			want: []byte("X-A: 1\r\nReceived: x\r\nSubject: a\r\n\r\nbody\r\n"), bare: 5, kinds: []Kind{KindHeaderAdded}},
		{name: "big, after header edits, streamed", in: big,
			tr:   Set{Headers: HeaderEdits{Remove: []string{"Subject"}}},
			want: toCRLF(big[len("Subject: big\n"):]), bare: bytes.Count(big, []byte("\n")) - 1, kinds: []Kind{KindHeaderRemoved}},
		{name: "after the line fix, spooled", in: []byte("Subject: a\n\n" + strings.Repeat("x ", 60) + "\n"),
			tr:   Set{MaxLineLength: MinLineLimit},
			want: nil, bare: -1, kinds: []Kind{KindLineReencoded}},
	}
	for _, tt := range tests {
		for _, opener := range []struct {
			name string
			open func([]byte) Opener
		}{{"", bytesOpener}, {", a byte per read", oneByteOpener}} {
			if len(tt.in) > smallMessage && opener.name != "" {
				continue // the same path, only slower
			}
			t.Run(tt.name+opener.name, func(t *testing.T) {
				res, got, err := applyAndRead(tt.tr, int64(len(tt.in)), opener.open(tt.in))
				if err != nil {
					t.Fatal(err)
				}
				if res.Size != int64(len(got)) {
					t.Errorf("Size %d, %d bytes yielded", res.Size, len(got))
				}
				if tt.bare >= 0 {
					want := tt.want
					if want == nil {
						want = tt.in
					}
					if !bytes.Equal(got, want) {
						t.Errorf("got %q, want %q", trimForLog(got), trimForLog(want))
					}
				}
				if bytes.Contains(bytes.ReplaceAll(got, []byte("\r\n"), nil), []byte("\n")) {
					t.Errorf("a bare LF is left in %q", trimForLog(got))
				}
				if res.HasNUL != tt.nul {
					t.Errorf("HasNUL %v, want %v", res.HasNUL, tt.nul)
				}
				kinds := tt.kinds
				if tt.bare != 0 {
					kinds = append(slices.Clone(kinds), KindCRLF)
				}
				if !slices.Equal(Kinds(res.Changes), kinds) {
					t.Errorf("kinds %q, want %q (%q)", Kinds(res.Changes), kinds, res.Changes)
				}
				if tt.bare > 0 {
					want := Change{KindCRLF, "line endings: " + strconv.Itoa(tt.bare) + " bare LF sent as CRLF"}
					if !slices.Contains(res.Changes, want) {
						t.Errorf("changes %q lack %q", res.Changes, want)
					}
				}
			})
		}
	}
}

// TestWireStreamsBigMessages checks that a big message is never held: its
// Body reads from the opener as it is read.
func TestWireStreamsBigMessages(t *testing.T) {
	b := bigMessage()
	var opened []*countingReader
	open := func() (io.ReadCloser, error) {
		r := &countingReader{r: bytes.NewReader(b)}
		opened = append(opened, r)
		return io.NopCloser(r), nil
	}
	res, err := (&Set{}).Apply(format.Message{Size: int64(len(b))}, nil, open)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if len(opened) != 2 || opened[0].n != int64(len(b)) || opened[1].n != 0 {
		t.Fatalf("opened %d times before the first read", len(opened))
	}
	if _, err := io.ReadFull(res.Body, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if n := opened[1].n; n == 0 || n > 64<<10 {
		t.Errorf("%d bytes read from the archive for the first 100 sent", n)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestCRLFSum(t *testing.T) {
	crlf := []byte("Subject: a\r\n\r\nbody\r\nmore\r\n")
	plain := sha256.Sum256(crlf)
	for _, in := range []string{
		"Subject: a\r\n\r\nbody\r\nmore\r\n",
		"Subject: a\n\nbody\nmore\n",
		"Subject: a\r\n\nbody\nmore\r\n",
	} {
		for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
			sum, err := CRLFSum(r)
			if err != nil {
				t.Fatal(err)
			}
			if sum != plain {
				t.Errorf("%q: %x, want the SHA-256 of its CRLF form %x", in, sum, plain)
			}
		}
	}
	for _, other := range []string{
		"Subject: a\r\r\nbody\r\nmore\r\n", // a lone CR is a byte of its own
		"Subject: a\r\n\r\nbody\r\nmore",   // the last line break is not aside
		"Subject: a\r\n\r\nbody\r\nmore\r\n\r\n",
	} {
		if sum, _ := CRLFSum(strings.NewReader(other)); sum == plain {
			t.Errorf("%q hashes as %q", other, crlf)
		}
	}
	h := NewCRLFHash()
	h.Write([]byte("a\r"))
	h.Reset()
	h.Write([]byte("\nb"))
	if got, want := h.Sum(nil), sha256.Sum256([]byte("\r\nb")); !bytes.Equal(got, want[:]) {
		t.Errorf("Reset kept a CR from before")
	}
}

package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

// testMessage builds a message whose body is pseudo-random text of n bytes,
// so it neither compresses to nothing nor is identical to another.
func testMessage(seed uint64, header string, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("\r\n\r\n")
	const letters = "abcdefghijklmnopqrstuvwxyz      ABCDEFGHIJ0123456789"
	line := 0
	for b.Len() < len(header)+4+n {
		b.WriteByte(letters[r.IntN(len(letters))])
		if line++; line == 76 {
			b.WriteString("\r\n")
			line = 0
		}
	}
	return b.Bytes()
}

func newTestArchive(t *testing.T) (*Archive, *Index) {
	t.Helper()
	a, err := OpenOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	idx, problems, err := a.Index()
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	return a, idx
}

func readAll(t *testing.T, r *Reader, id format.ID) []byte {
	t.Helper()
	rc, _, err := r.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPutReadBack(t *testing.T) {
	cases := []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"header only, no blank line", []byte("Subject: x\r\nFrom: a@b")},
		{"small", testMessage(1, "Subject: small", 300)},
		{"bare LF", bytes.ReplaceAll(testMessage(2, "Subject: lf", 5000), []byte("\r\n"), []byte("\n"))},
		{"5 MB body", testMessage(3, "Subject: big", 5<<20)},
		{"huge header", append(bytes.Repeat([]byte("X-Long: 0123456789012345678901234567890123456789\r\n"), 40000), testMessage(4, "Subject: h", 100)...)},
		{"one long line", append([]byte("Subject: line\r\n\r\n"), bytes.Repeat([]byte("y"), 3<<20)...)},
	}
	a, idx := newTestArchive(t)
	w, err := a.NewWriter(idx, WriterOptions{FrameSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]format.ID, len(cases))
	for i, c := range cases {
		id, size, err := w.Put(bytes.NewReader(c.msg))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if id != format.Sum(c.msg) || size != int64(len(c.msg)) {
			t.Fatalf("%s: id/size %s/%d, want %s/%d", c.name, id, size, format.Sum(c.msg), len(c.msg))
		}
		ids[i] = id
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A fresh index read from disk must find everything.
	idx2, problems, err := a.Index()
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	r, err := a.NewReader(idx2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i, c := range cases {
		if got := readAll(t, r, ids[i]); !bytes.Equal(got, c.msg) {
			t.Errorf("%s: read back %d bytes, differ from the %d put", c.name, len(got), len(c.msg))
		}
	}
}

func TestDedupSharesBodyAcrossHeaders(t *testing.T) {
	a, idx := newTestArchive(t)
	w, err := a.NewWriter(idx, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	body := testMessage(7, "Subject: newsletter", 3<<20)
	const copies = 50
	for i := range copies {
		msg := append([]byte(fmt.Sprintf("Delivered-To: user%d@example.org\r\nReceived: by mx; %d\r\n", i, i)), body...)
		if _, _, err := w.Put(bytes.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
	}
	// The very same message again is one blob, not another.
	if _, _, err := w.Put(bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Put(bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.NewMessages != copies+1 {
		t.Errorf("new messages %d, want %d", st.NewMessages, copies+1)
	}
	// The body is stored once: new chunk bytes are one body plus small headers.
	if limit := int64(len(body)) + copies*200; st.NewChunkBytes > limit {
		t.Errorf("stored %d raw bytes for %d copies of a %d-byte body; want at most %d", st.NewChunkBytes, copies, len(body), limit)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	a, idx := newTestArchive(t)
	w, err := a.NewWriter(idx, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	msg := testMessage(9, "Subject: s", 1000)
	id, size, err := w.Put(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("", -7*3600)
	h := format.Snapshot{Account: "u@h", Source: format.Source{Kind: format.SourceIMAP, Endpoint: "imap://u@h"}, Run: "r1", Started: time.Now(), Complete: true}
	sw, err := w.NewSnapshot(h)
	if err != nil {
		t.Fatal(err)
	}
	folder := format.Folder{Name: "Öffentliche Ordner/Q&A", Delimiter: "/", Subscribed: true, UIDValidity: 42}
	want := format.Message{Folder: folder.Name, UID: 7, ID: id, Size: size, Flags: format.NormalizeFlags([]string{"$Label1", `\seen`}), InternalDate: time.Date(2020, 1, 2, 3, 4, 5, 0, zone)}
	if err := sw.Folder(folder); err != nil {
		t.Fatal(err)
	}
	if err := sw.Message(want); err != nil {
		t.Fatal(err)
	}
	sid, err := sw.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	snaps, problems, err := a.Snapshots()
	if err != nil || len(problems) > 0 || len(snaps) != 1 || snaps[0].ID != sid {
		t.Fatalf("snapshots %v %v %v", snaps, problems, err)
	}
	var got []format.Message
	err = a.ReadSnapshot(sid, func(rec format.SnapshotRecord) error {
		if rec.Message != nil {
			got = append(got, *rec.Message)
		}
		return nil
	})
	if err != nil || len(got) != 1 {
		t.Fatal(err, got)
	}
	g := got[0]
	if g.ID != want.ID || g.UID != want.UID || !format.SameDate(g.InternalDate, want.InternalDate) || fmt.Sprint(g.Flags) != `[$Label1 \Seen]` {
		t.Errorf("got %+v, want %+v", g, want)
	}
}

// failingReader yields n bytes of text, then fails with err for ever.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = "abcdefghij\n"[i%11]
	}
	f.n -= k
	return k, nil
}

// A source that fails mid-message makes Put return a SourceError, promptly,
// whatever the error: io.ErrUnexpectedEOF (what a cut TLS connection gives)
// once made the chunker read for ever.
func TestPutSourceFailure(t *testing.T) {
	a, idx := newTestArchive(t)
	w, err := a.NewWriter(idx, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, n := range []int{0, 10, 100000, 3 << 20} {
		for _, cause := range []error{io.ErrUnexpectedEOF, io.ErrClosedPipe} {
			done := make(chan error, 1)
			go func() {
				_, _, err := w.Put(&failingReader{n: n, err: cause})
				done <- err
			}()
			select {
			case err := <-done:
				var se *SourceError
				if !errors.As(err, &se) || !errors.Is(err, cause) {
					t.Errorf("after %d bytes, %v: Put returned %v, want a SourceError wrapping it", n, cause, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("after %d bytes, %v: Put did not return", n, cause)
			}
		}
	}
}

package transform

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"

	"github.com/mailferry/mailferry/format"
)

// The wire stage is the last transform: it makes the bytes what IMAP takes.
// An APPEND literal is a message in RFC 5322 form (RFC 3501 section
// 6.3.11), so in CRLF lines, and Maildir and mbox files mostly hold
// bare LF: Dovecot takes those, Cyrus answers "NO Message contains bare
// newlines". So every LF without a CR before it goes as CRLF; a lone CR and
// a CRLF stay as they are. A NUL byte is allowed only in a BINARY literal
// (RFC 3516); the stage changes none, it only says there is one.

// nextBareLF returns the index in p of the first LF without a CR before it,
// or -1; cr says whether the byte before p was a CR.
func nextBareLF(p []byte, cr bool) int {
	for off := 0; ; {
		i := bytes.IndexByte(p[off:], '\n')
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 && !cr || i > 0 && p[i-1] != '\r' {
			return i
		}
		off = i + 1
	}
}

// endsInCR says whether the last byte of what came so far is a CR: p's last
// byte, or, p being empty, what cr said before it.
func endsInCR(p []byte, cr bool) bool {
	if len(p) == 0 {
		return cr
	}
	return p[len(p)-1] == '\r'
}

// appendCRLF appends src to dst with every bare LF written as CRLF; cr says
// whether the byte before src was a CR, and the result whether src's last
// byte is, for a CRLF split between two pieces.
func appendCRLF(dst, src []byte, cr bool) ([]byte, bool) {
	for {
		i := nextBareLF(src, cr)
		if i < 0 {
			return append(dst, src...), endsInCR(src, cr)
		}
		dst = append(dst, src[:i]...)
		dst = append(dst, '\r', '\n')
		src, cr = src[i+1:], false
	}
}

// wireScan reads a message as the wire stage sees it: how long it is, how
// many bare LFs it has, whether it holds a NUL.
type wireScan struct {
	n, bareLF int64
	nul, cr   bool
}

func (s *wireScan) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	if !s.nul && bytes.IndexByte(p, 0) >= 0 {
		s.nul = true
	}
	for rest, cr := p, s.cr; ; {
		i := nextBareLF(rest, cr)
		if i < 0 {
			s.cr = endsInCR(rest, cr)
			return len(p), nil
		}
		s.bareLF++
		rest, cr = rest[i+1:], false
	}
}

// size is the length of the message on the wire.
func (s *wireScan) size() int64 { return s.n + s.bareLF }

// changes are what the wire stage changes, as a Change: nothing or CRLF.
func (s *wireScan) changes() []Change {
	if s.bareLF == 0 {
		return nil
	}
	return []Change{{KindCRLF, fmt.Sprintf("line endings: %d bare LF sent as CRLF", s.bareLF)}}
}

// crlfWriter writes on to w what it is given, every bare LF as CRLF.
type crlfWriter struct {
	w   io.Writer
	cr  bool
	buf []byte
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	c.buf, c.cr = appendCRLF(c.buf[:0], p, c.cr)
	if _, err := c.w.Write(c.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// crlfReader reads r with every bare LF as CRLF, converting as it goes.
type crlfReader struct {
	r   io.Reader
	cr  bool
	in  []byte
	buf []byte
	out []byte // converted, not yet read
	err error
}

func newCRLFReader(r io.Reader) *crlfReader {
	return &crlfReader{r: r, in: make([]byte, 32<<10)}
}

func (c *crlfReader) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		var n int
		n, c.err = c.r.Read(c.in)
		c.buf, c.cr = appendCRLF(c.buf[:0], c.in[:n], c.cr)
		c.out = c.buf
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// crlfHash is a SHA-256 of its input line endings aside.
type crlfHash struct {
	crlfWriter
	h hash.Hash
}

// NewCRLFHash returns a SHA-256 that hashes what is written to it line
// endings aside: every bare LF as CRLF, a CRLF and a lone CR as they are.
// A message stored with bare LF and the same message served in CRLF lines
// (as the wire stage sent it, or as a server rewrote it) hash alike; of
// bytes in CRLF lines already, it is their plain SHA-256. It holds nothing
// of the message, so dedup and verify can hash one of any size.
func NewCRLFHash() hash.Hash {
	h := sha256.New()
	return &crlfHash{crlfWriter: crlfWriter{w: h}, h: h}
}

func (c *crlfHash) Sum(b []byte) []byte { return c.h.Sum(b) }
func (c *crlfHash) Size() int           { return c.h.Size() }
func (c *crlfHash) BlockSize() int      { return c.h.BlockSize() }

func (c *crlfHash) Reset() {
	c.h.Reset()
	c.cr = false
}

// CRLFSum reads r to its end and returns its SHA-256 line endings aside
// (see NewCRLFHash).
func CRLFSum(r io.Reader) (format.ID, error) {
	var id format.ID
	h := NewCRLFHash()
	if _, err := io.Copy(h, r); err != nil {
		return id, err
	}
	h.Sum(id[:0])
	return id, nil
}

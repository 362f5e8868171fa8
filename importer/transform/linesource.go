package transform

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// lineBufferSize is how much of a line is looked at in one piece. A line
// longer than this (a 50 MB base64 blob on one line) streams through in
// pieces; it cannot be a boundary, whose lines are short.
const lineBufferSize = 64 << 10

// fragment is a line, or a piece of a line longer than the buffer.
type fragment struct {
	data  []byte // without the line break
	term  []byte // lineCRLF or lineLF on a line's last piece; nil else, or at the end of input
	start bool   // the first piece of its line
	end   bool   // the last piece: term is set, or the input ended
}

// lineSource cuts its input into fragments.
type lineSource struct {
	br       *bufio.Reader
	midLine  bool
	prevTerm []byte // line break of the line before the current one
	lastTerm []byte // line break of the last line that ended
}

func newLineSource(r io.Reader) *lineSource {
	return &lineSource{br: bufio.NewReaderSize(r, lineBufferSize)}
}

// next returns the next fragment; its bytes are valid until the next call.
func (s *lineSource) next() (fragment, error) {
	raw, err := s.br.ReadSlice('\n')
	f := fragment{start: !s.midLine}
	switch err {
	case nil:
		f.end = true
		if len(raw) >= 2 && raw[len(raw)-2] == '\r' {
			f.data, f.term = raw[:len(raw)-2], lineCRLF
		} else {
			f.data, f.term = raw[:len(raw)-1], lineLF
		}
	case bufio.ErrBufferFull:
		// A CR ending the piece may be the first half of a CRLF: leave it
		// for the next piece, which then holds the whole line break.
		if raw[len(raw)-1] == '\r' {
			if uerr := s.br.UnreadByte(); uerr == nil {
				raw = raw[:len(raw)-1]
			}
		}
		f.data = raw
	case io.EOF:
		if len(raw) == 0 && f.start {
			return fragment{}, io.EOF
		}
		f.data, f.end = raw, true
	default:
		return fragment{}, err
	}
	if f.start {
		s.prevTerm = s.lastTerm
	}
	s.midLine = !f.end
	if f.end {
		s.lastTerm = f.term
	}
	return f, nil
}

// lineBreak is the line break new lines get: the one the last line had,
// which in a body is the header's (or part header's) kind.
func (s *lineSource) lineBreak() []byte {
	if s.lastTerm != nil {
		return s.lastTerm
	}
	return lineCRLF
}

// lineMeter counts the lines written to it that are longer than limit
// bytes, line break not counted.
type lineMeter struct {
	limit   int
	cur     int64
	cr      bool
	long    int
	longest int64
}

func (m *lineMeter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			m.cur += int64(len(p))
			m.cr = p[len(p)-1] == '\r'
			break
		}
		l := m.cur + int64(i)
		if i > 0 && p[i-1] == '\r' || i == 0 && m.cr {
			l--
		}
		m.line(l)
		m.cur, m.cr = 0, false
		p = p[i+1:]
	}
	return n, nil
}

// finish counts a last line that had no line break.
func (m *lineMeter) finish() {
	if m.cur > 0 {
		m.line(m.cur)
	}
	m.cur, m.cr = 0, false
}

func (m *lineMeter) line(n int64) {
	if n > int64(m.limit) {
		m.long++
		m.longest = max(m.longest, n)
	}
}

func (m *lineMeter) describe() string {
	if m.long == 1 {
		return fmt.Sprintf("1 line of %d bytes", m.longest)
	}
	return fmt.Sprintf("%d lines of up to %d bytes", m.long, m.longest)
}

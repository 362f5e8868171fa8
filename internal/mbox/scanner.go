package mbox

import (
	"bufio"
	"bytes"
	"io"
)

// bufSize is the read buffer; lines longer than it pass through in pieces.
const bufSize = 64 << 10

// headerCap bounds the header section a reader holds to look for mbox
// headers: a message whose header section (up to and including the empty
// line that ends it) is longer has no header section as far as this package
// is concerned, and is all body.
const headerCap = 1 << 20

// gtRun hands out runs of '>' without allocating.
var gtRun = bytes.Repeat([]byte{'>'}, 256)

// scanner reads the lines of one message of an mbox: it stops before the
// From_ line of the next message, drops the empty line before it, and
// removes one '>' from lines that start with '>'s and "From ".
type scanner struct {
	br      *bufio.Reader
	ended   bool // the message has ended
	midLine bool // the last piece did not end its line
	gts     int  // '>' still to hand out at the start of the current line
}

func (s *scanner) reset() { s.ended, s.midLine, s.gts = false, false, 0 }

// piece returns the next piece of the message: a line, or part of one, valid
// until the next call. start reports whether it begins a line, unquoted
// whether that line lost a '>'. At the message's end piece returns io.EOF.
func (s *scanner) piece() (p []byte, start, unquoted bool, err error) {
	if s.ended {
		return nil, false, false, io.EOF
	}
	if s.gts > 0 {
		n := min(s.gts, len(gtRun))
		s.gts -= n
		return gtRun[:n], false, false, nil
	}
	if !s.midLine {
		end, err := s.atEnd()
		if err != nil {
			return nil, false, false, err
		}
		if end {
			s.ended = true
			return nil, false, false, io.EOF
		}
		start = true
		// The '>' run is counted rather than looked at in the buffer, so
		// that a run of any length is unquoted as the writer quoted it.
		n, err := skipGT(s.br)
		if err != nil {
			return nil, false, false, err
		}
		if n > 0 {
			if q, _ := s.br.Peek(5); string(q) == "From " {
				n--
				unquoted = true
			}
			if n > 0 {
				s.midLine = true
				first := min(n, len(gtRun))
				s.gts = n - first
				return gtRun[:first], true, unquoted, nil
			}
		}
	}
	line, err := s.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		s.midLine = true
		return line, start, unquoted, nil
	case err == io.EOF && len(line) == 0:
		s.ended = true
		return nil, false, false, io.EOF
	case err != nil && err != io.EOF:
		return nil, false, false, err
	}
	s.midLine = false
	return line, start, unquoted, nil
}

// atEnd reports, at the start of a line, whether the message ends here: at
// the end of input, at a From_ line, or at an empty line followed by either,
// which it then consumes as the separator.
func (s *scanner) atEnd() (bool, error) {
	p, err := s.br.Peek(5)
	if len(p) == 0 {
		if err == io.EOF {
			return true, nil
		}
		return false, err
	}
	if string(p) == "From " {
		return true, nil
	}
	eol := 0
	switch {
	case p[0] == '\n':
		eol = 1
	case len(p) > 1 && p[0] == '\r' && p[1] == '\n':
		eol = 2
	default:
		return false, nil
	}
	q, err := s.br.Peek(eol + 5)
	if after := q[eol:]; len(after) == 0 && err == io.EOF || string(after) == "From " {
		_, err := s.br.Discard(eol)
		return true, err
	}
	if err != nil && err != io.EOF {
		return false, err
	}
	return false, nil
}

// skipGT consumes the '>' characters at the reader's position and returns
// how many there were.
func skipGT(br *bufio.Reader) (int, error) {
	n := 0
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if c != '>' {
			return n, br.UnreadByte()
		}
		n++
	}
}

// isEmptyLine reports whether line is an empty line, LF or CRLF.
func isEmptyLine(line []byte) bool {
	return string(line) == "\n" || string(line) == "\r\n"
}

// needsQuote reports whether a message line must get a '>' in an mbox
// file: it starts with "From " after any number of '>'.
func needsQuote(line []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From "))
}

package pop3

import (
	"bufio"
	"io"
)

// dotReader reads the body of a multi-line answer (RFC 1939 section 3): it
// strips the first octet of every line that starts with "." (the dot the
// server added), ends at the line ".", and passes every other byte through
// as it came. Lines end at CRLF only: a bare LF is content, and so is a "."
// after it, which is how a server that keeps a stored message's bare LFs
// sends it. Memory use is bufio.Reader's buffer, whatever the line lengths.
type dotReader struct {
	r         *bufio.Reader
	pending   []byte // part of r's buffer not yet handed out
	lineStart bool   // the next byte from r begins a line
	prevCR    bool   // the last byte taken from r was CR
	err       error  // io.EOF after the terminating line, or why reading failed
}

func newDotReader(r *bufio.Reader) *dotReader {
	return &dotReader{r: r, lineStart: true}
}

// Read returns io.EOF once the terminating line has been consumed, and
// io.ErrUnexpectedEOF if the stream ends before it.
func (d *dotReader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.fill()
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

// drain consumes the rest of the body up to and including the terminating
// line, so the connection is ready for the next command.
func (d *dotReader) drain() error {
	for d.err == nil {
		d.pending = nil
		d.fill()
	}
	d.pending = nil
	if d.err == io.EOF {
		return nil
	}
	return d.err
}

// fill sets pending to the next piece of the body, at most one line, or
// sets err.
func (d *dotReader) fill() {
	if d.lineStart {
		// At a line start the terminator is still to come, so three
		// bytes are there to peek at unless the stream is cut.
		head, err := d.r.Peek(3)
		if err != nil {
			d.err = noEOF(err)
			return
		}
		if head[0] == '.' {
			if head[1] == '\r' && head[2] == '\n' {
				d.r.Discard(3)
				d.err = io.EOF
				return
			}
			d.r.Discard(1)
		}
		d.lineStart = false
	}
	chunk, err := d.r.ReadSlice('\n')
	if n := len(chunk); n > 0 {
		switch {
		case chunk[n-1] != '\n':
			d.prevCR = chunk[n-1] == '\r'
		case n >= 2:
			d.lineStart, d.prevCR = chunk[n-2] == '\r', false
		default: // the LF of a CRLF split across two pieces, or a bare LF
			d.lineStart, d.prevCR = d.prevCR, false
		}
	}
	d.pending = chunk
	if err != nil && err != bufio.ErrBufferFull {
		d.err = noEOF(err)
	}
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: inside a multi-line answer,
// the end of the stream always comes too early.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

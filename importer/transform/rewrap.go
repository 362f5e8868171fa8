package transform

import (
	"bytes"
	"io"
)

// rewrapper breaks the lines over limit of an already encoded body so that
// every piece is at most 76 characters, leaving shorter lines alone. For
// base64 it inserts plain line breaks (decoders skip them); for
// quoted-printable it inserts soft line breaks ("=" and a line break), which
// decode to nothing. Breaks never go inside an =XX escape or right after a
// lone "=", never inside a run of blanks (one might be trailing, which
// decoders drop), never before a CR, and never before a "-", so no new line
// can look like a MIME boundary. A long line with no such place for
// thousands of bytes is left long.
type rewrapper struct {
	w      io.Writer
	limit  int
	qp     bool
	brk    []byte // inserted: "=" + line break for quoted-printable
	width  int    // characters before an inserted break
	line   []byte // the current line while it may still be short
	long   bool   // the current line is over limit: wrapping
	cur    []byte // wrapping: the output line being built
	cut    int    // wrapping: last allowed break in cur, 0 for none
	p1, p2 byte   // the two input bytes before the next one
	// broken is true when a break is due before cur: it is written with
	// cur, so that Close can take it back (see Close).
	broken bool
	err    error
}

// maxUnbrokenScan bounds how far a wrapping line is held while no break is
// allowed in it: beyond, it is written as it is and stays long.
const maxUnbrokenScan = 4096

func newRewrapper(w io.Writer, limit int, qp bool, lineBreak []byte) *rewrapper {
	r := &rewrapper{w: w, limit: limit, qp: qp, brk: lineBreak, width: qpLineWidth}
	if qp {
		r.brk = append([]byte("="), lineBreak...)
		r.width = qpLineWidth - 1
	}
	return r
}

func (r *rewrapper) Write(p []byte) (int, error) {
	for _, c := range p {
		if r.err != nil {
			return 0, r.err
		}
		r.byte(c)
	}
	return len(p), r.err
}

func (r *rewrapper) byte(c byte) {
	if c == '\n' {
		r.endLine()
		return
	}
	if !r.long {
		r.line = append(r.line, c)
		// One byte more than the limit, or the limit and a CR that may
		// belong to the line break: only then is the line known long.
		if len(r.line) > r.limit+1 || len(r.line) == r.limit+1 && c != '\r' {
			r.long = true
			held := r.line
			r.line = nil
			for _, h := range held {
				r.wrap(h)
			}
		}
		return
	}
	r.wrap(c)
}

func (r *rewrapper) wrap(c byte) {
	if len(r.cur) > 0 && r.breakable(c) {
		if len(r.cur) >= r.width {
			r.emit(r.cur)
			r.broken = true
			r.cur, r.cut = r.cur[:0], 0
		} else {
			r.cut = len(r.cur)
		}
	}
	r.p2, r.p1 = r.p1, c
	r.cur = append(r.cur, c)
	if len(r.cur) > r.width && r.cut > 0 {
		r.emit(r.cur[:r.cut])
		r.broken = true
		r.cur = append(r.cur[:0], r.cur[r.cut:]...)
		r.cut = 0
	}
	if len(r.cur) > maxUnbrokenScan {
		r.emit(r.cur)
		r.cur, r.cut = r.cur[:0], 0
	}
}

// emit writes b after the break due before it, if any.
func (r *rewrapper) emit(b []byte) {
	if r.broken {
		r.write(r.brk)
		r.broken = false
	}
	r.write(b)
}

// breakable reports whether a break may go before c.
func (r *rewrapper) breakable(c byte) bool {
	if c == '-' || c == '\r' {
		return false
	}
	if !r.qp {
		return true
	}
	return r.p1 != '=' && r.p2 != '=' && !(isWSP(r.p1) && isWSP(c))
}

func (r *rewrapper) endLine() {
	if r.long {
		r.emit(r.cur)
	} else {
		r.write(r.line)
	}
	r.write(lineLF)
	r.reset()
}

func (r *rewrapper) reset() {
	r.line, r.cur, r.cut, r.long, r.broken = r.line[:0], r.cur[:0], 0, false, false
	r.p1, r.p2 = 0, 0
}

// Close writes the last line, which had no line break. Decoders (Go's
// among them) refuse a soft line break alone on the last line, so a break
// that would leave only "=" and blanks there is not made.
func (r *rewrapper) Close() error {
	if r.long {
		if r.qp && r.broken && len(r.cur) > 0 && r.cur[0] == '=' && len(bytes.TrimRight(r.cur[1:], " \t\r")) == 0 {
			r.broken = false
		}
		r.emit(r.cur)
	} else {
		r.write(r.line)
	}
	r.reset()
	return r.err
}

func (r *rewrapper) write(b []byte) {
	if r.err == nil && len(b) > 0 {
		_, r.err = r.w.Write(b)
	}
}

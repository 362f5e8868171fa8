package transform

import (
	"io"
)

// qpLineWidth is RFC 2045's limit for a quoted-printable or base64 line.
const qpLineWidth = 76

// qpEncoder writes quoted-printable (RFC 2045 section 6.7) that decodes,
// with go-message's and any RFC decoder, to exactly the bytes written to it:
// line breaks are kept as they are (CRLF or bare LF, each decodes to
// itself), a CR that is not part of one and blanks before a line break or
// the end are escaped (decoders drop trailing blanks), and a "-" that would
// start an output line is escaped, so no encoded line can look like a MIME
// boundary.
type qpEncoder struct {
	w     io.Writer
	soft  []byte // "=" and the line break of the message
	col   int
	ws    byte // a blank not written yet: escaped if a line break follows
	cr    bool // a CR not written yet: a line break if LF follows
	buf   []byte
	err   error
	hexes [3]byte
}

func newQPEncoder(w io.Writer, lineBreak []byte) *qpEncoder {
	return &qpEncoder{w: w, soft: append([]byte("="), lineBreak...)}
}

func (e *qpEncoder) Write(p []byte) (int, error) {
	for _, c := range p {
		e.byte(c)
		if len(e.buf) >= 4096 {
			e.flush()
		}
	}
	e.flush()
	if e.err != nil {
		return 0, e.err
	}
	return len(p), nil
}

// Close writes what is pending; it writes no final line break, so the part
// ends where its content ended.
func (e *qpEncoder) Close() error {
	if e.cr {
		e.cr = false
		e.pendingBlank(false)
		e.token('\r', false)
	}
	e.pendingBlank(true)
	e.flush()
	return e.err
}

func (e *qpEncoder) byte(c byte) {
	if e.cr {
		e.cr = false
		if c == '\n' {
			e.pendingBlank(true)
			e.buf = append(e.buf, '\r', '\n')
			e.col = 0
			return
		}
		e.pendingBlank(false)
		e.token('\r', false)
	}
	switch c {
	case '\r':
		e.cr = true
	case '\n':
		e.pendingBlank(true)
		e.buf = append(e.buf, '\n')
		e.col = 0
	case ' ', '\t':
		e.pendingBlank(false)
		e.ws = c
	default:
		e.pendingBlank(false)
		e.token(c, c > ' ' && c < 127 && c != '=')
	}
}

// pendingBlank writes a held blank, escaped when what follows is a line
// break or the end.
func (e *qpEncoder) pendingBlank(beforeBreak bool) {
	if e.ws == 0 {
		return
	}
	c := e.ws
	e.ws = 0
	e.token(c, !beforeBreak)
}

// token writes c literally or as =XX, with a soft line break first when the
// line would grow over 76 characters with its "=".
func (e *qpEncoder) token(c byte, literal bool) {
	n := 3
	if literal {
		n = 1
	}
	if e.col+n > qpLineWidth-1 {
		e.buf = append(e.buf, e.soft...)
		e.col = 0
	}
	if e.col == 0 && c == '-' {
		literal, n = false, 3
	}
	if literal {
		e.buf = append(e.buf, c)
	} else {
		const hex = "0123456789ABCDEF"
		e.buf = append(e.buf, '=', hex[c>>4], hex[c&15])
	}
	e.col += n
}

func (e *qpEncoder) flush() {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

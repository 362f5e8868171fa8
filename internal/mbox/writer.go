package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mailferry/mailferry/format"
)

// Writer writes messages to an mbox file, each as a From_ line, the message
// with mboxrd quoting and its flags in Status, X-Status and X-Keywords
// headers, and an empty line.
type Writer struct {
	w   *bufio.Writer
	br  *bufio.Reader
	hdr []byte
	out []byte
	err error
}

// NewWriter returns a Writer that appends messages to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, bufSize)}
}

// Write writes the message read from r, with m's flags and date; its From_
// line names m.Sender, else the address of the message's Return-Path header,
// else MAILER-DAEMON. Each Write ends with a flush, so the file holds whole
// messages between calls.
//
// A Reader gives back exactly the bytes of r, with two exceptions: a message
// whose last line has no line ending gets one (a From_ line could not start
// after it otherwise), and mbox headers the message already had (Status,
// X-Status, X-Keywords, X-UID, X-IMAP, X-IMAPbase) are replaced by ones that
// hold m.Flags, as Dovecot does when it saves to mbox. The flag headers go at
// the end of the header section, in the line ending of the message's first
// line.
//
// Errors before anything is written (no date, a keyword X-Keywords cannot
// hold, a failing r before its header section is read) leave the Writer
// usable. ErrFlagsDropped means the message was written whole but without
// flags. Any other error leaves a partial message in the file and the Writer
// refuses further messages.
func (w *Writer) Write(m Message, r io.Reader) error {
	if w.err != nil {
		return w.err
	}
	if m.FromLineDate.IsZero() {
		return ErrNoDate
	}
	if y := m.FromLineDate.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("From_ line date %v: year out of range", m.FromLineDate)
	}
	if w.br == nil {
		w.br = bufio.NewReaderSize(r, bufSize)
	} else {
		w.br.Reset(r)
	}
	h, err := w.readHeader()
	if err != nil {
		return err
	}
	status, err := statusHeaders(m.Flags, h.eol)
	if err != nil {
		return err
	}
	err = w.write(m, h, status)
	if err != nil && !errors.Is(err, ErrFlagsDropped) {
		w.err = err
	}
	return err
}

// header is the start of a message as Write read it.
type header struct {
	lines []byte // complete header lines (the whole start, if over)
	empty []byte // the empty line that ends the header section, if any
	rest  []byte // when over: the part of a line read beyond lines
	eof   bool   // the message ended within the header section
	over  bool   // no header section within headerCap
	eol   string
}

// readHeader reads the message's header section into w.hdr.
func (w *Writer) readHeader() (header, error) {
	var h header
	hdr := w.hdr[:0]
	ls, raw := 0, 0 // start of the current line in hdr; its quoted size so far
	for {
		chunk, err := w.br.ReadSlice('\n')
		hdr = append(hdr, chunk...)
		if err == bufio.ErrBufferFull {
			if len(hdr)-ls+raw > headerCap {
				h.over = true
				break
			}
			continue
		}
		if err != nil && err != io.EOF {
			return h, err
		}
		line := hdr[ls:]
		if isEmptyLine(line) {
			h.empty = line
			break
		}
		raw += len(line)
		if needsQuote(line) {
			raw++
		}
		if raw > headerCap {
			h.over = true
			break
		}
		ls = len(hdr)
		if err == io.EOF {
			h.eof = true
			break
		}
	}
	w.hdr = hdr
	h.lines, h.rest = hdr[:ls], hdr[ls:]
	if h.empty != nil {
		h.rest = nil
	}
	h.eol = "\n"
	if first, _, ok := bytes.Cut(hdr, []byte("\n")); ok && bytes.HasSuffix(first, []byte("\r")) {
		h.eol = "\r\n"
	}
	return h, nil
}

func (w *Writer) write(m Message, h header, status string) error {
	sender := m.Sender
	if sender == "" {
		sender = returnPath(h.lines)
	}
	if _, err := w.w.WriteString(formatFromLine(fromSender(sender), m.FromLineDate) + h.eol); err != nil {
		return err
	}
	var dropped error
	if h.over && len(format.NormalizeFlags(m.Flags)) > 0 {
		dropped = ErrFlagsDropped
	}
	lines := h.lines
	if !h.over {
		w.out, _ = filterHeader(w.out[:0], h.lines)
		lines = w.out
		var term string
		if h.eof && len(lines) > 0 {
			last := lines[bytes.LastIndexByte(lines[:len(lines)-1], '\n')+1:]
			if string(last) == "\r" {
				// With its line ending this last line is an empty one,
				// which ends the header section: the flags go before it.
				lines, h.empty = lines[:len(lines)-1], []byte("\r\n")
			} else {
				term = terminator(last, h.eol)
			}
		}
		if quotedLen(lines)+len(term)+len(status)+len(h.empty) > headerCap {
			status = ""
			if len(format.NormalizeFlags(m.Flags)) > 0 {
				dropped = ErrFlagsDropped
			}
		}
		status = term + status
	}
	last, err := writeQuotedLines(w.w, lines)
	if err != nil {
		return err
	}
	if !h.over {
		if _, err := w.w.WriteString(status); err != nil {
			return err
		}
		if _, err := w.w.Write(h.empty); err != nil {
			return err
		}
		if s := status + string(h.empty); s != "" {
			last = s[len(s)-1]
		}
	}
	src := w.br
	if len(h.rest) > 0 {
		src = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(h.rest), w.br), bufSize)
	}
	if l, err := copyQuoted(w.w, src); err != nil {
		return err
	} else if l != 0 {
		last = l
	}
	end := h.eol
	if last != 0 {
		end = terminator([]byte{last}, h.eol) + h.eol
	}
	if _, err := w.w.WriteString(end); err != nil {
		return err
	}
	if err := w.w.Flush(); err != nil {
		return err
	}
	return dropped
}

// terminator returns what a message needs after its last byte, the end of
// line, so that a From_ line can follow: nothing after '\n', "\n" after a
// lone CR, eol otherwise.
func terminator(line []byte, eol string) string {
	switch line[len(line)-1] {
	case '\n':
		return ""
	case '\r':
		return "\n"
	}
	return eol
}

// returnPath returns the address of the first Return-Path header in hdr.
func returnPath(hdr []byte) string {
	for len(hdr) > 0 {
		var line []byte
		line, hdr = cutLine(hdr)
		if headerName(line) != "return-path" {
			continue
		}
		v := strings.TrimSpace(string(line[bytes.IndexByte(line, ':')+1:]))
		if i := strings.IndexByte(v, '<'); i >= 0 {
			v = v[i+1:]
			if j := strings.IndexByte(v, '>'); j >= 0 {
				v = v[:j]
			}
		}
		return v
	}
	return ""
}

// quotedLen returns the size of lines once mboxrd-quoted.
func quotedLen(lines []byte) int {
	n := len(lines)
	for len(lines) > 0 {
		var line []byte
		line, lines = cutLine(lines)
		if needsQuote(line) {
			n++
		}
	}
	return n
}

// writeQuotedLines writes whole lines held in memory, mboxrd-quoted, and
// returns the last byte written (0 if none).
func writeQuotedLines(w *bufio.Writer, lines []byte) (byte, error) {
	var last byte
	for len(lines) > 0 {
		var line []byte
		line, lines = cutLine(lines)
		if needsQuote(line) {
			w.WriteByte('>')
		}
		if _, err := w.Write(line); err != nil {
			return 0, err
		}
		last = line[len(line)-1]
	}
	return last, nil
}

// copyQuoted copies src to w line by line, mboxrd-quoting lines that start
// with '>'s and "From ", and returns the last byte written (0 if none). The
// '>' run is counted, not looked at in the buffer, so that a run of any
// length is quoted as a Reader will unquote it.
func copyQuoted(w *bufio.Writer, src *bufio.Reader) (byte, error) {
	var last byte
	start := true
	for {
		if start {
			n, err := skipGT(src)
			if err != nil {
				return last, err
			}
			if q, _ := src.Peek(5); string(q) == "From " {
				n++
			}
			for ; n > 0; n -= min(n, len(gtRun)) {
				w.Write(gtRun[:min(n, len(gtRun))])
				last = '>'
			}
		}
		chunk, err := src.ReadSlice('\n')
		if len(chunk) > 0 {
			if _, err := w.Write(chunk); err != nil {
				return last, err
			}
			last = chunk[len(chunk)-1]
		}
		switch err {
		case nil:
			start = true
		case bufio.ErrBufferFull:
			start = false
		case io.EOF:
			return last, nil
		default:
			return last, err
		}
	}
}

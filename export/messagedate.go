package export

import (
	"bytes"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/mailferry/mailferry/format"
)

// messageDate gives a message whose source tells no internal date (POP3
// has none; an IMAP server may send one that cannot be parsed) the date it
// reached the mailbox: that of the newest Received: header (the topmost,
// which the receiving server added), else the Date: header, else now; the
// second result says which, for the snapshot's date_source.
func messageDate(header []byte) (time.Time, string) {
	msg, err := mail.ReadMessage(bytes.NewReader(header))
	if err == nil {
		for _, rcv := range msg.Header["Received"] {
			if i := strings.LastIndexByte(rcv, ';'); i >= 0 {
				if d, err := mail.ParseDate(strings.TrimSpace(unfold(rcv[i+1:]))); err == nil {
					return d, format.DateFromReceived
				}
			}
		}
		if d, err := msg.Header.Date(); err == nil {
			return d, format.DateFromHeader
		}
	}
	return time.Now().Truncate(time.Second), format.DateFromExport
}

// unfold joins folded header lines and drops a trailing comment such as
// "(CET)", which net/mail's date parser does not take.
func unfold(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, " ("); i >= 0 {
		s = s[:i]
	}
	return s
}

// headerCapture passes a message through and keeps its header section (up
// to 256 KiB), from which POP3's missing internal date is derived.
type headerCapture struct {
	r    io.Reader
	buf  bytes.Buffer
	done bool
}

const maxCapturedHeader = 256 << 10

func (h *headerCapture) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if !h.done && n > 0 {
		// Look for the empty line only where it can newly be: in what was
		// just read and the two bytes before it.
		from := max(h.buf.Len()-2, 0)
		h.buf.Write(p[:n])
		b := h.buf.Bytes()[from:]
		if i := bytes.Index(b, []byte("\n\r\n")); i >= 0 {
			h.buf.Truncate(from + i + 3)
			h.done = true
		} else if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
			h.buf.Truncate(from + i + 2)
			h.done = true
		} else if h.buf.Len() >= maxCapturedHeader {
			h.done = true
		}
	}
	if err == io.EOF {
		h.done = true
	}
	return n, err
}

func (h *headerCapture) header() []byte { return h.buf.Bytes() }

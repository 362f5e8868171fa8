package export

import (
	"bytes"
	"net/mail"
	"strings"
	"time"

	"github.com/mailferry/mailferry/format"
)

// pop3Date gives a POP3 message (which has no internal date) the date it
// reached the mailbox: that of the newest Received: header (the topmost,
// which the receiving server added), else the Date: header, else now; the
// second result says which, for the snapshot's date_source.
func pop3Date(header []byte) (time.Time, string) {
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

package memimap

import (
	"bytes"
	"io"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// session stores each appended message in the form imapmemserver serves it.
//
// imapmemserver answers RFC822.SIZE with the stored length but builds
// BODY[] by parsing the header and writing it again
// (imapserver.ExtractBodySection), which ends every header line in CRLF and
// adds the blank line a header-only message may lack. Its message bytes are
// unexported, so the wrapper cannot serve them unchanged; storing the served
// form instead makes the server behave like one that normalizes on APPEND:
// RFC822.SIZE and BODY[] agree and stay stable, and clients see no
// difference to warn about.
type session struct {
	imapserver.SessionIMAP4rev2
}

func (s *session) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return s.SessionIMAP4rev2.Append(mailbox, bytes.NewReader(served(b)), options)
}

// served returns the bytes the server stores and serves as BODY[] for a
// message appended as b: b itself when its header section already ends in
// CRLF lines and a blank line, else b with its header written that way.
func served(b []byte) []byte {
	s := imapserver.ExtractBodySection(bytes.NewReader(b), &imap.FetchItemBodySection{})
	if s == nil { // a header imapmemserver cannot parse: keep what was sent
		return b
	}
	return s
}

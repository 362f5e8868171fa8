package importer

import (
	"bufio"
	"net/textproto"
	"strings"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// headerMessageID reads the Message-ID of a header section.
func headerMessageID(hdr []byte) string {
	if len(hdr) == 0 {
		return ""
	}
	h, _ := textproto.NewReader(bufio.NewReader(strings.NewReader(string(hdr)))).ReadMIMEHeader()
	return strings.TrimSpace(h.Get("Message-Id"))
}

// messageID reads a stored message's Message-ID header (from its header
// chunk alone).
func messageID(rd *archive.Reader, id format.ID) (string, error) {
	hdr, err := rd.Header(id)
	if err != nil {
		return "", err
	}
	return headerMessageID(hdr), nil
}

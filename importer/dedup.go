package importer

import (
	"bufio"
	"io"
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

// messageID reads a stored message's Message-ID header.
func messageID(rd *archive.Reader, id format.ID) (string, error) {
	rc, _, err := rd.Open(id)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h, err := textproto.NewReader(bufio.NewReader(io.LimitReader(rc, 1<<20))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return "", nil
	}
	return strings.TrimSpace(h.Get("Message-Id")), nil
}

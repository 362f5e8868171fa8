package importer

import (
	"bufio"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/format"
)

// presentByMessageID reads the selected folder's messages' Message-ID,
// size and internal date, for --dedup message-id.
func presentByMessageID(c *imapclient.Client) (map[string][]presentMsg, error) {
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true}
	msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{UID: true, InternalDate: true, RFC822Size: true,
		BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return nil, fmt.Errorf("FETCH Message-IDs: %w", err)
	}
	out := map[string][]presentMsg{}
	for _, m := range msgs {
		id := headerMessageID(m.FindBodySection(section))
		if id != "" {
			out[id] = append(out[id], presentMsg{size: m.RFC822Size, date: m.InternalDate})
		}
	}
	return out, nil
}

func headerMessageID(hdr []byte) string {
	if len(hdr) == 0 {
		return ""
	}
	h, _ := textproto.NewReader(bufio.NewReader(strings.NewReader(string(hdr)))).ReadMIMEHeader()
	return strings.TrimSpace(h.Get("Message-Id"))
}

// duplicate reports whether the folder held the message before this run:
// same Message-ID, and same size or same internal date.
func (im *importer) duplicate(f *destFolder, m format.Message) (bool, error) {
	id, err := messageID(im.reader, m.ID)
	if err != nil || id == "" {
		return false, err
	}
	for _, p := range f.present[id] {
		if p.size == m.Size || p.date.Equal(m.InternalDate) {
			return true, nil
		}
	}
	return false, nil
}

package importer

import (
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/transform"
)

// findCopy looks among the folder's messages the manifest does not know
// for one that is this message: candidates of the same Message-ID (or,
// without one, of any) and the same size, confirmed by the SHA-256 of what
// the server serves, line endings aside, against sent, the hash of the
// bytes this import would send (CRLF line ends already; a message with
// NUL, sent binary, is compared as BINARY[] serves it). It claims and
// returns the UID found, or 0.
func (f *destFolder) findCopy(c *imapclient.Client, msgID string, size int64, sent format.ID, binary bool) (uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cands := f.bySize[size]
	if msgID != "" {
		cands = f.byMessageID[msgID]
	}
	for _, uid := range cands {
		u := f.unknown[uid]
		if u.claimed || u.size != size {
			continue
		}
		sum := &u.sum
		if binary {
			sum = &u.binarySum
		}
		if sum.IsZero() {
			s, err := fetchSum(c, f.name, uid, binary)
			if err != nil {
				return 0, err
			}
			*sum = s
		}
		if *sum == sent {
			u.claimed = true
			return uid, nil
		}
	}
	return 0, nil
}

// findByMessageID is --dedup message-id, the looser match: a message the
// manifest does not know with the same Message-ID and the same size or
// internal date, bytes unchecked. It claims and returns the UID, or 0.
func (f *destFolder) findByMessageID(msgID string, size int64, m format.Message) uint32 {
	if msgID == "" {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, uid := range f.byMessageID[msgID] {
		u := f.unknown[uid]
		if !u.claimed && (u.size == size || u.size == m.Size || u.date.Equal(m.InternalDate)) {
			u.claimed = true
			return uid
		}
	}
	return 0
}

// fetchSum streams one message through a hash, holding none of it:
// BODY[] through the line-ending-blind hash, or with binary the exact
// bytes of BINARY[] (RFC 3516), the only way a server gives back NUL.
func fetchSum(c *imapclient.Client, folder string, uid uint32, binary bool) (format.ID, error) {
	if mb := c.Mailbox(); mb == nil || mb.Name != folder {
		if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			return format.ID{}, fmt.Errorf("SELECT %q: %w", folder, err)
		}
	}
	opts := &imap.FetchOptions{UID: true}
	if binary {
		opts.BinarySection = []*imap.FetchItemBinarySection{{Peek: true}}
	} else {
		opts.BodySection = []*imap.FetchItemBodySection{{Peek: true}}
	}
	cmd := c.Fetch(imap.UIDSetNum(imap.UID(uid)), opts)
	var sum format.ID
	var sumErr error
	found := false
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			var lit imap.LiteralReader
			switch it := item.(type) {
			case imapclient.FetchItemDataBodySection:
				lit = it.Literal
			case imapclient.FetchItemDataBinarySection:
				lit = it.Literal
			}
			if lit == nil || found {
				continue
			}
			if binary {
				sum, _, sumErr = format.SumReader(lit)
			} else {
				sum, sumErr = transform.CRLFSum(lit)
			}
			found = true
		}
	}
	if err := errors.Join(cmd.Close(), sumErr); err != nil {
		return sum, fmt.Errorf("folder %q uid %d: FETCH: %w", folder, uid, err)
	}
	if !found {
		return sum, fmt.Errorf("folder %q uid %d: FETCH gave no body", folder, uid)
	}
	return sum, nil
}

package export

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// recogniseByHeader fetches only the header sections of items and returns
// (by index) those whose header and size match a message the archive holds. After a
// UIDVALIDITY change (a folder recreated, a server migrated) this finds the
// known messages at the cost of their headers instead of their bodies. The
// archive stores the header section as a message's first chunk, so the
// match is on its SHA-256.
func recogniseByHeader(ctx context.Context, c *imapclient.Client, idx *archive.Index, items []Item) (map[int]format.ID, error) {
	found := map[int]format.ID{}
	byUID := make(map[imap.UID]int, len(items))
	uids := make([]imap.UID, len(items))
	for i, it := range items {
		byUID[imap.UID(it.UID)] = i
		uids[i] = imap.UID(it.UID)
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	for start := 0; start < len(uids); start += batchMessages {
		set := imap.UIDSetNum(uids[start:min(start+batchMessages, len(uids))]...)
		cmd := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			buf, err := msg.Collect()
			if err != nil {
				cmd.Close()
				return nil, fmt.Errorf("FETCH headers: %w", err)
			}
			hdr := buf.FindBodySection(section)
			i, ok := byUID[buf.UID]
			if !ok || hdr == nil {
				continue
			}
			if id, ok := idx.FindByHeader(format.Sum(hdr), items[i].Size); ok {
				found[i] = id
			}
		}
		if err := cmd.Close(); err != nil {
			return nil, fmt.Errorf("FETCH headers: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return found, nil
}

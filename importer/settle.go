package importer

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// settleAll resolves the intents a killed run left without an outcome,
// before anything else is appended.
func (im *importer) settleAll(ctx context.Context, coord *mailconn.Session) error {
	pending := im.opts.Manifest.Pending()
	if len(pending) == 0 {
		return nil
	}
	return coord.Do(ctx, func(c *imapclient.Client) error {
		for _, e := range im.opts.Manifest.Pending() {
			f, err := im.folder(c, e.Folder)
			if err != nil {
				return err
			}
			landed, err := im.settle(c, f, e)
			if err != nil {
				return err
			}
			if landed {
				im.mu.Lock()
				im.rep.Settled++
				im.mu.Unlock()
			}
		}
		return nil
	})
}

// settle decides whether an intent's APPEND landed: a message at or above
// the UIDNEXT noted with the intent, of the noted size and SHA-256, that
// no other record claims. It records the outcome either way.
func (im *importer) settle(c *imapclient.Client, f *destFolder, e ManifestEntry) (bool, error) {
	if e.UIDValidity != f.uidValidity {
		// The folder was recreated since: whatever landed went with it.
		return false, im.opts.Manifest.Abandon(e.Key)
	}
	if _, err := c.Select(f.name, nil).Wait(); err != nil {
		return false, fmt.Errorf("SELECT %q: %w", f.name, err)
	}
	start := imap.UID(max(e.UIDNext, 1))
	cands, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: start, Stop: 0}}, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return false, fmt.Errorf("settle %q: FETCH: %w", f.name, err)
	}
	claimed := im.claimedUIDs(f)
	for _, m := range cands {
		// "n:*" also returns the last message when all UIDs are below n.
		if m.UID < start || m.RFC822Size != e.Size || claimed[uint32(m.UID)] {
			continue
		}
		section := &imap.FetchItemBodySection{Peek: true}
		body, err := c.Fetch(imap.UIDSetNum(m.UID), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return false, fmt.Errorf("settle %q: FETCH: %w", f.name, err)
		}
		if len(body) == 1 && format.Sum(body[0].FindBodySection(section)) == e.Sent {
			im.landed(f, uint32(m.UID))
			return true, im.opts.Manifest.Done(e.Key, uint32(m.UID), f.uidValidity)
		}
	}
	return false, im.opts.Manifest.Abandon(e.Key)
}

// claimedUIDs returns the UIDs of the folder that manifest entries hold.
func (im *importer) claimedUIDs(f *destFolder) map[uint32]bool {
	out := map[uint32]bool{}
	for _, e := range im.opts.Manifest.entriesIn(f.name, f.uidValidity) {
		if e.Done && e.UID != 0 {
			out[e.UID] = true
		}
	}
	return out
}

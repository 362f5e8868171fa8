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
// before the destination is inspected and anything appended: folder by
// folder, each candidate message fetched once however many intents wait
// on that folder.
func (im *importer) settleAll(ctx context.Context, coord *mailconn.Session) error {
	pending := im.opts.Manifest.Pending()
	if len(pending) == 0 {
		return nil
	}
	byFolder := map[string][]ManifestEntry{}
	var order []string
	for _, e := range pending {
		if byFolder[e.Folder] == nil {
			order = append(order, e.Folder)
		}
		byFolder[e.Folder] = append(byFolder[e.Folder], e)
	}
	return coord.Do(ctx, func(c *imapclient.Client) error {
		for _, name := range order {
			sel, err := c.Select(name, nil).Wait()
			if err != nil {
				// The folder is gone: nothing of it landed.
				for _, e := range byFolder[name] {
					if err := im.opts.Manifest.Abandon(e.Key, e.Folder); err != nil {
						return err
					}
				}
				continue
			}
			f := &destFolder{name: name, uidValidity: sel.UIDValidity, uidNext: uint32(sel.UIDNext)}
			landed, err := im.settleFolder(c, f, byFolder[name])
			if err != nil {
				return err
			}
			im.mu.Lock()
			im.rep.Settled += len(landed)
			im.mu.Unlock()
		}
		return nil
	})
}

// settleBatch settles, on c, the intents that an interrupted attempt to
// send todo left without an outcome (those the server refused have one):
// one pass per folder, as at start-up. Each message that turns out to have
// landed is counted.
func (im *importer) settleBatch(c *imapclient.Client, todo []prepared, refused map[string]bool) error {
	byFolder := map[*destFolder][]ManifestEntry{}
	var order []*destFolder
	for _, p := range todo {
		if refused[p.job.key] {
			continue
		}
		if e, ok := im.opts.Manifest.Lookup(p.job.key, p.f.name); ok && !e.Done && e.Skip == "" {
			if byFolder[p.f] == nil {
				order = append(order, p.f)
			}
			byFolder[p.f] = append(byFolder[p.f], e)
		}
	}
	for _, f := range order {
		landed, err := im.settleFolder(c, f, byFolder[f])
		if err != nil {
			return err
		}
		for _, e := range landed {
			im.counted(f, e.Key, e.Size)
		}
	}
	return nil
}

// settleFolder settles the intents of one folder: it hashes once each
// message at or above the lowest UIDNEXT noted whose size some intent
// noted, and gives each intent a landed message of its hash that no other
// record claims. It returns the intents that landed.
func (im *importer) settleFolder(c *imapclient.Client, f *destFolder, entries []ManifestEntry) ([]ManifestEntry, error) {
	var live []ManifestEntry
	sizes := map[int64]bool{}
	binarySizes := map[int64]bool{} // of messages sent in BINARY literals
	low := uint32(0)
	for _, e := range entries {
		if e.UIDValidity != f.uidValidity {
			if err := im.opts.Manifest.Abandon(e.Key, e.Folder); err != nil {
				return nil, err
			}
			continue
		}
		live = append(live, e)
		sizes[e.Size] = true
		binarySizes[e.Size] = binarySizes[e.Size] || e.Binary
		if low == 0 || e.UIDNext < low {
			low = e.UIDNext
		}
	}
	if len(live) == 0 {
		return nil, nil
	}
	if _, err := c.Select(f.name, nil).Wait(); err != nil {
		return nil, fmt.Errorf("SELECT %q: %w", f.name, err)
	}
	start := imap.UID(max(low, 1))
	cands, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: start, Stop: 0}}, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("settle %q: FETCH: %w", f.name, err)
	}
	claimed := map[uint32]bool{}
	for _, e := range im.opts.Manifest.In(f.name) {
		if e.UIDValidity == f.uidValidity && e.UID != 0 {
			claimed[e.UID] = true
		}
	}
	hashes := map[format.ID][]uint32{} // candidates by SHA-256, in UID order
	for _, m := range cands {
		if m.UID < start || !sizes[m.RFC822Size] || claimed[uint32(m.UID)] {
			continue
		}
		for _, binary := range []bool{false, true} {
			if binary && !binarySizes[m.RFC822Size] {
				continue
			}
			sum, err := fetchSum(c, f.name, uint32(m.UID), binary)
			if err != nil {
				return nil, err
			}
			hashes[sum] = append(hashes[sum], uint32(m.UID))
		}
	}
	var landed []ManifestEntry
	for _, e := range live {
		uid := uint32(0)
		for i, u := range hashes[e.Sent] {
			if u >= e.UIDNext {
				uid = u
				hashes[e.Sent] = append(hashes[e.Sent][:i:i], hashes[e.Sent][i+1:]...)
				break
			}
		}
		if uid == 0 {
			if err := im.opts.Manifest.Abandon(e.Key, e.Folder); err != nil {
				return landed, err
			}
			continue
		}
		im.landed(f, uid)
		if err := im.opts.Manifest.Done(e.Key, e.Folder, uid, f.uidValidity); err != nil {
			return landed, err
		}
		landed = append(landed, e)
	}
	return landed, nil
}

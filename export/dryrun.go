package export

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// FolderPlan is what a dry run found in one folder.
type FolderPlan struct {
	Folder   string `json:"folder"`
	Messages int    `json:"messages"`
	Bytes    int64  `json:"bytes"`
	// New counts the messages an export would download: those the archive
	// (if one was given) does not hold under the same UIDVALIDITY and UID.
	New      int    `json:"new"`
	NewBytes int64  `json:"new_bytes"`
	Note     string `json:"note,omitempty"`
}

// IMAPDryRun lists the folders an export would read, with their message
// counts and sizes, and changes nothing: not the source, not the archive
// (a may be nil when there is none yet).
func IMAPDryRun(ctx context.Context, a *archive.Archive, opts IMAPOptions) ([]FolderPlan, error) {
	opts.defaults()
	k := &known{}
	if a != nil {
		idx, _, err := a.Index()
		if err != nil {
			return nil, err
		}
		if k, err = loadKnown(a, idx, opts.Account); err != nil {
			return nil, err
		}
	}
	coord := &mailconn.Session{Dial: opts.Dial, Retries: opts.Retries}
	defer coord.Close()
	var plans []FolderPlan
	err := coord.Do(ctx, func(c *imapclient.Client) error {
		plans = plans[:0]
		folders, _, err := listFolders(c)
		if err != nil {
			return err
		}
		for _, f := range folders {
			if !opts.Filter.Match(f.Name) {
				continue
			}
			p := FolderPlan{Folder: f.Name}
			if f.HasAttribute(string(imap.MailboxAttrNoSelect)) || f.HasAttribute(string(imap.MailboxAttrNonExistent)) {
				p.Note = "not selectable"
				plans = append(plans, p)
				continue
			}
			sel, err := c.Select(f.Name, &imap.SelectOptions{ReadOnly: true}).Wait()
			if err != nil {
				if isCommandError(err) {
					p.Note = fmt.Sprintf("EXAMINE failed: %v", err)
					plans = append(plans, p)
					continue
				}
				return err
			}
			meta := map[imap.UID]msgMeta{}
			var order []imap.UID
			if sel.NumMessages > 0 {
				if err := fetchMeta(c, meta, &order); err != nil {
					return err
				}
			}
			for _, uid := range order {
				m := meta[uid]
				p.Messages++
				p.Bytes += m.size
				if ref, ok := k.uid(f.Name, sel.UIDValidity, uint32(uid)); !ok || ref.size != m.size {
					p.New++
					p.NewBytes += m.size
				}
			}
			plans = append(plans, p)
		}
		return nil
	})
	return plans, err
}

// isCommandError reports whether err is the server's NO or BAD for one
// command, as opposed to a broken connection.
func isCommandError(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie)
}

package export

import (
	"context"
	"fmt"

	"github.com/mailferry/mailferry/archive"
)

// FolderPlan is what a dry run found in one folder.
type FolderPlan struct {
	Folder   string `json:"folder"`
	Messages int    `json:"messages"`
	Bytes    int64  `json:"bytes"`
	// New counts the messages an export would read: those the archive (if
	// one was given) does not hold under the same UIDVALIDITY and UID, or
	// UIDL. Sources without either (Maildir, mbox) count all: an export
	// reads them all and stores only what is new by content.
	New      int    `json:"new"`
	NewBytes int64  `json:"new_bytes"`
	Note     string `json:"note,omitempty"`
}

// dryRun lists the selected folders with their message counts and sizes,
// and changes nothing: not the source, not the archive (a may be nil when
// there is none yet).
func dryRun(ctx context.Context, a *archive.Archive, src Source, listing Listing, account string, opts Options) (*Report, error) {
	k := &known{}
	if a != nil {
		idx, _, err := a.Index()
		if err != nil {
			return nil, err
		}
		if k, err = loadKnown(a, idx, account); err != nil {
			return nil, err
		}
	}
	rep := &Report{Account: account, DryRun: true, Warnings: listing.Warnings, Failures: listing.Failures}
	for _, f := range listing.Failures {
		rep.Plan = append(rep.Plan, FolderPlan{Folder: f.Folder, Note: f.Error})
	}
	for _, f := range listing.Folders {
		if !opts.Filter.Match(f.Name) {
			continue
		}
		rep.Folders++
		p := FolderPlan{Folder: f.Name}
		if !selectable(f) {
			p.Note = "not selectable"
			rep.Plan = append(rep.Plan, p)
			continue
		}
		f, items, err := src.Examine(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return rep, context.Cause(ctx)
			}
			p.Note = fmt.Sprintf("cannot be read: %v", err)
			rep.Plan = append(rep.Plan, p)
			continue
		}
		for _, it := range items {
			p.Messages++
			p.Bytes += it.Size
			if _, ok := k.lookup(f, it); !ok {
				p.New++
				p.NewBytes += it.Size
			}
		}
		rep.Messages += p.Messages
		rep.Bytes += p.Bytes
		rep.Plan = append(rep.Plan, p)
	}
	return rep, nil
}

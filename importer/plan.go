package importer

import (
	"context"
	"slices"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/importer/foldermap"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// FolderPlan is the plan for one source folder, in the words of the
// import report.
type FolderPlan struct {
	Source   string `json:"source"`
	Dest     string `json:"dest,omitempty"`
	Excluded bool   `json:"excluded,omitempty"`
	Exists   bool   `json:"exists"`
	// New messages will be appended (NewBytes of them); AlreadyThere the
	// destination holds (checked by UID); Restore those the manifest has
	// but the destination lost; Pending those a killed run left unsettled.
	New          int   `json:"new"`
	NewBytes     int64 `json:"new_bytes"`
	AlreadyThere int   `json:"already_there"`
	Restore      int   `json:"restore"`
	Pending      int   `json:"pending"`
	// FlagsToUpdate and ToDelete are the cut-over's work (ToDelete only
	// with Delete); Skipped what the transforms leave out by size.
	FlagsToUpdate int `json:"flags_to_update"`
	ToDelete      int `json:"to_delete"`
	Skipped       int `json:"skipped"`
	// Unknown counts messages in the destination folder that no manifest
	// entry claims: each new message is checked against them (Message-ID
	// and size, then the bytes) and skipped as a duplicate if it is one.
	Unknown int `json:"unknown_at_destination"`
	// Notes say what became of the folder name and why.
	Notes []string `json:"notes,omitempty"`

	Mapping foldermap.Mapping `json:"-"`
}

// PlanIMAP works out what an import would do, changing nothing on the
// destination (folders are EXAMINEd): each source folder's destination,
// and how many messages are new, there already, to restore, to update or
// to delete, checked against the destination as the import checks them.
func PlanIMAP(ctx context.Context, a *archive.Archive, opts IMAPOptions) ([]FolderPlan, error) {
	opts.defaults()
	im := &importer{a: a, opts: &opts, rep: &ImportReport{}, folders: map[string]*destFolder{}}
	src, _, err := snapshotFolders(a, opts.Snapshot.ID)
	if err != nil {
		return nil, err
	}
	s := &mailconn.Session{Dial: opts.Dial, Retries: opts.Retries}
	defer s.Close()
	var mappings []foldermap.Mapping
	err = s.Do(ctx, func(c *imapclient.Client) error {
		var err error
		if mappings, err = mapFolders(c, src, im.opts); err == nil {
			im.appendLimit(c)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	im.setMappings(mappings)
	if err := im.inspectAll(ctx, s, true); err != nil {
		return nil, err
	}
	plans := make([]FolderPlan, len(mappings))
	index := map[string]int{}
	for i, m := range mappings {
		plans[i] = FolderPlan{Source: m.Source.Name, Dest: m.Dest, Excluded: m.Excluded, Exists: m.Exists, Notes: m.Changes, Mapping: m}
		index[m.Source.Name] = i
		if f := im.folders[m.Dest]; f != nil && selectable(m) {
			plans[i].Unknown = len(f.unknown)
		}
	}
	im.keys = map[string]bool{}
	err = im.walk(func(j appendJob) error {
		key, m := j.key, j.msg
		mp := im.mappings[m.Folder]
		p := &plans[index[m.Folder]]
		im.keys[key] = true
		f := im.folders[mp.Dest]
		if f != nil {
			if e, ok := f.alive[key]; ok {
				n := len(im.flagJobs)
				im.alreadyThere(f, e, m)
				p.AlreadyThere++
				p.FlagsToUpdate += len(im.flagJobs) - n
				return nil
			}
		}
		if e, ok := opts.Manifest.Lookup(key, mp.Dest); opts.Manifest != nil && ok && !e.Done && e.Skip == "" {
			p.Pending++
			return nil
		}
		if why := opts.Transforms.SkipReason(m); why != "" {
			p.Skipped++
			return nil
		}
		if f != nil && f.stale[key] != "" {
			p.Restore++
		} else {
			p.New++
		}
		p.NewBytes += m.Size
		return nil
	})
	if err != nil || !opts.Delete {
		return plans, err
	}
	for _, g := range im.gone() {
		if i := slices.IndexFunc(plans, func(p FolderPlan) bool { return p.Dest == g.folder && !p.Excluded }); i >= 0 {
			plans[i].ToDelete += len(g.keys)
		}
	}
	return plans, nil
}

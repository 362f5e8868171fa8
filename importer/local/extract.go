package local

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// Target is a mail store on disk that Extract writes a snapshot into.
type Target interface {
	// CreateFolder makes a folder; it is called before the folder's messages.
	CreateFolder(f format.Folder) error
	// Deliver writes one message with its flags and internal date.
	Deliver(m format.Message, r io.Reader) error
	// SetSubscriptions records which folders are subscribed.
	SetSubscriptions(names []string) error
	// Close finishes the store.
	Close() error
}

// Report says what Extract wrote. Failures lists every message that
// could not be written; the extraction is complete only if it is empty.
type Report struct {
	Snapshot format.ID
	Folders  int
	Messages int
	Bytes    int64
	Duration time.Duration
	Failures []string
}

// Selection picks what Extract writes; the zero value picks everything.
type Selection struct {
	// Folder, if set, keeps the folders it returns true for.
	Folder func(name string) bool
	// Message, if set, keeps the messages it returns true for.
	Message func(m format.Message) bool
}

func (s Selection) keeps(m format.Message) bool {
	return (s.Folder == nil || s.Folder(m.Folder)) && (s.Message == nil || s.Message(m))
}

// Extract writes the messages of a snapshot that sel keeps into t, with
// their folders (only those that hold a kept message, when sel picks some)
// and subscriptions. A message that cannot be read or delivered is a
// failure of its own; the others go on.
func Extract(ctx context.Context, a *archive.Archive, snap format.ID, t Target, sel Selection) (*Report, error) {
	start := time.Now()
	rep := &Report{Snapshot: snap}
	r, _, err := a.OpenReader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	all := sel.Folder == nil && sel.Message == nil
	folders := map[string]format.Folder{}
	created := map[string]bool{}
	var subscribed []string
	create := func(f format.Folder) error {
		if created[f.Name] {
			return nil
		}
		created[f.Name] = true
		rep.Folders++
		if f.Subscribed {
			subscribed = append(subscribed, f.Name)
		}
		if err := t.CreateFolder(f); err != nil {
			return fmt.Errorf("create folder %q: %w", f.Name, err)
		}
		return nil
	}
	err = a.ReadSnapshot(snap, func(rec format.SnapshotRecord) error {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if f := rec.Folder; f != nil {
			folders[f.Name] = *f
			if all {
				return create(*f)
			}
			return nil
		}
		m := rec.Message
		if !sel.keeps(*m) {
			return nil
		}
		if err := create(folders[m.Folder]); err != nil {
			return err
		}
		rc, _, err := r.Open(m.ID)
		if err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("folder %q uid %d: %v", m.Folder, m.UID, err))
			return nil
		}
		defer rc.Close()
		if err := t.Deliver(*m, rc); err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("folder %q uid %d: %v", m.Folder, m.UID, err))
			return nil
		}
		rep.Messages++
		rep.Bytes += m.Size
		return nil
	})
	if err != nil {
		t.Close()
		return rep, err
	}
	if err := t.SetSubscriptions(subscribed); err != nil {
		t.Close()
		return rep, err
	}
	if err := t.Close(); err != nil {
		return rep, err
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

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

// Extract writes every folder and message of a snapshot into t. A message
// the archive cannot give back intact is reported and the rest go on.
func Extract(ctx context.Context, a *archive.Archive, snap format.ID, t Target) (*Report, error) {
	start := time.Now()
	rep := &Report{Snapshot: snap}
	idx, _, err := a.Index()
	if err != nil {
		return nil, err
	}
	r, err := a.NewReader(idx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var subscribed []string
	err = a.ReadSnapshot(snap, func(rec format.SnapshotRecord) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f := rec.Folder; f != nil {
			rep.Folders++
			if f.Subscribed {
				subscribed = append(subscribed, f.Name)
			}
			if err := t.CreateFolder(*f); err != nil {
				return fmt.Errorf("create folder %q: %w", f.Name, err)
			}
			return nil
		}
		m := rec.Message
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

package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// LocalStore is a mail store on disk (Maildir, mbox) read folder by folder.
type LocalStore interface {
	// Source says what kind of store this is and where it is.
	Source() format.Source
	Folders() ([]format.Folder, error)
	// Messages calls fn for each message of the folder in a stable order,
	// with the message's bytes as r (valid during the call only).
	Messages(folder string, fn func(m LocalMessage, r io.Reader) error) error
}

// LocalMessage is what a local store knows of a message besides its bytes.
type LocalMessage struct {
	Item         string // file name or position, for reports
	Flags        format.Flags
	InternalDate time.Time
	DateSource   string
	// Err, when set, means the store could not read this message; the
	// export reports it and goes on.
	Err error
}

// Options apply to every export.
type Options struct {
	// Account overrides the account name (default: the store's path, or
	// USER@HOST for servers).
	Account string
	// Tool is the mailferry version recorded in the snapshot.
	Tool string
}

func newRunID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// parentOf returns the account's latest complete snapshot, if any.
func parentOf(a *archive.Archive, account string) (*format.ID, error) {
	snaps, _, err := a.Snapshots()
	if err != nil {
		return nil, err
	}
	s, err := archive.SelectSnapshot(snaps, account, "")
	if err != nil {
		return nil, nil
	}
	return &s.ID, nil
}

// Local exports a whole local store into the archive as a new snapshot.
// Messages already in the archive are recognised by content and not stored
// again. A message that cannot be read is reported and the rest go on.
func Local(ctx context.Context, a *archive.Archive, store LocalStore, opts Options) (*Report, error) {
	start := time.Now()
	src := store.Source()
	account := opts.Account
	if account == "" {
		account = src.Endpoint
	}
	rep := &Report{Account: account}
	parent, err := parentOf(a, account)
	if err != nil {
		return nil, err
	}
	idx, problems, err := a.Index()
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		slog.Warn("archive index file unreadable; its messages will be stored again", "problem", p)
	}
	w, err := a.NewWriter(idx, archive.WriterOptions{})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	folders, err := store.Folders()
	if err != nil {
		return nil, fmt.Errorf("list folders of %s: %w", src.Endpoint, err)
	}
	sw, err := w.NewSnapshot(format.Snapshot{Account: account, Source: src, Run: newRunID(), Started: start, Complete: true, Parent: parent, Tool: opts.Tool})
	if err != nil {
		return nil, err
	}
	defer sw.Abort()
	for _, f := range folders {
		if err := sw.Folder(f); err != nil {
			return nil, err
		}
		rep.Folders++
		if f.HasAttribute(`\Noselect`) {
			continue
		}
		uid := uint32(0)
		err := store.Messages(f.Name, func(m LocalMessage, r io.Reader) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if m.Err != nil {
				rep.fail(f.Name, m.Item, m.Err)
				return nil
			}
			id, size, err := w.Put(r)
			if err != nil {
				// A read error is the source's fault and skips one
				// message; a failed archive write stops the export.
				if ctx.Err() == nil && isSourceError(err) {
					rep.fail(f.Name, m.Item, err)
					return nil
				}
				return err
			}
			uid++
			rep.Messages++
			rep.Bytes += size
			return sw.Message(format.Message{Folder: f.Name, UID: uid, ID: id, Size: size, Flags: m.Flags,
				InternalDate: m.InternalDate, DateSource: m.DateSource})
		})
		if err != nil {
			return rep, fmt.Errorf("export folder %q: %w", f.Name, err)
		}
		slog.Debug("folder exported", "folder", f.Name, "messages", uid)
	}
	sid, err := sw.Commit()
	if err != nil {
		return rep, err
	}
	if err := w.Close(); err != nil {
		return rep, err
	}
	st := w.Stats()
	rep.Snapshot = sid
	rep.NewMessages = st.NewMessages
	rep.NewBytes = st.PackBytes
	rep.Duration = time.Since(start)
	return rep, nil
}

func isSourceError(err error) bool {
	var se *archive.SourceError
	return errors.As(err, &se)
}

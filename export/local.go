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
	// CheckpointEvery is how often progress is made durable for resuming;
	// DefaultCheckpointEvery if zero.
	CheckpointEvery time.Duration
	// Writer tunes the archive writer (compression level, frame size).
	Writer archive.WriterOptions
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
	src := store.Source()
	account := opts.Account
	if account == "" {
		account = src.Endpoint
	}
	folders, err := store.Folders()
	if err != nil {
		return nil, fmt.Errorf("list folders of %s: %w", src.Endpoint, err)
	}
	r, err := startRun(a, account, src, opts, nil)
	if err != nil {
		return nil, err
	}
	return r.finishOrStop(ctx, exportLocal(ctx, r, store, folders))
}

func exportLocal(ctx context.Context, r *run, store LocalStore, folders []format.Folder) error {
	for _, f := range folders {
		if err := r.folder(f); err != nil {
			return err
		}
		if f.HasAttribute(`\Noselect`) {
			continue
		}
		uid := uint32(0)
		err := store.Messages(f.Name, func(m LocalMessage, rd io.Reader) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if m.Err != nil {
				r.fail(f.Name, m.Item, m.Err)
				return nil
			}
			id, size, err := r.w.Put(rd)
			if err != nil {
				// A read error is the source's fault and skips one
				// message; a failed archive write stops the export.
				if isSourceError(err) {
					r.fail(f.Name, m.Item, err)
					return nil
				}
				return err
			}
			uid++
			return r.message(format.Message{Folder: f.Name, UID: uid, ID: id, Size: size, Flags: m.Flags,
				InternalDate: m.InternalDate, DateSource: m.DateSource}, true)
		})
		if err != nil {
			return fmt.Errorf("export folder %q: %w", f.Name, err)
		}
		slog.Debug("folder exported", "folder", f.Name, "messages", uid)
	}
	return nil
}

func isSourceError(err error) bool {
	var se *archive.SourceError
	return errors.As(err, &se)
}

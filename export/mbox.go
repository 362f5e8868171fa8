package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mbox"
)

// mboxSource reads an mbox file, or a directory tree of them.
type mboxSource struct {
	path    string
	folders []mbox.FolderFile
}

// OpenMbox opens an mbox file or a directory of mbox files for export.
func OpenMbox(path string) (Source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	folders, skipped, err := mbox.Folders(abs)
	if err != nil {
		return nil, err
	}
	for _, s := range skipped {
		slog.Warn("not an mbox file; skipped", "path", s)
	}
	return &mboxSource{path: abs, folders: folders}, nil
}

func (m *mboxSource) Describe() format.Source {
	return format.Source{Kind: format.SourceMbox, Endpoint: m.path}
}

func (m *mboxSource) DefaultAccount() string { return m.path }

func (m *mboxSource) Close() {}

func (m *mboxSource) List(context.Context) (Listing, error) {
	out := make([]format.Folder, len(m.folders))
	for i, f := range m.folders {
		out[i] = f.Folder
	}
	return Listing{Folders: out}, nil
}

// Examine reads the folder's file through once to count and size its
// messages; Read reads it again for their bytes.
func (m *mboxSource) Examine(ctx context.Context, f format.Folder) (format.Folder, []Item, error) {
	var items []Item
	err := m.messages(ctx, f.Name, func(it Item, r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		it.Size = n
		items = append(items, it)
		return err
	})
	return f, items, err
}

func (m *mboxSource) NewReader() MessageReader { return m }

func (m *mboxSource) Read(ctx context.Context, f format.Folder, items []Item, sink Sink) error {
	want := make(map[uint32]Item, len(items))
	for _, it := range items {
		want[it.UID] = it
	}
	var stop error
	err := m.messages(ctx, f.Name, func(found Item, r io.Reader) error {
		it, ok := want[found.UID]
		if !ok {
			return nil
		}
		delete(want, found.UID)
		stop = putLocal(ctx, sink, f, it, r)
		return stop
	})
	if stop != nil {
		return stop
	}
	if err != nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	for _, it := range want {
		if err == nil {
			err = errors.New("no longer in the file")
		}
		sink.Fail(f, it, err)
	}
	return nil
}

// messages calls fn for each message of the folder's file, in order, with
// its bytes as r (valid during the call only).
func (m *mboxSource) messages(ctx context.Context, folder string, fn func(Item, io.Reader) error) error {
	var path string
	for _, f := range m.folders {
		if f.Folder.Name == folder {
			path = f.Path
		}
	}
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := mbox.NewReader(f)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		msg, r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: message %d: %w", path, n, err)
		}
		if msg.Pseudo {
			n--
			continue
		}
		it := Item{UID: uint32(n), Name: fmt.Sprintf("%s message %d", path, n), Flags: msg.Flags, InternalDate: msg.FromLineDate, DateSource: format.DateFromFromLine}
		if msg.DateErr != nil || it.InternalDate.IsZero() {
			slog.Warn("mbox From_ line has no readable date; using the export time", "file", path, "message", n, "error", msg.DateErr)
			it.InternalDate, it.DateSource = time.Now().Truncate(time.Second), format.DateFromExport
		}
		if err := fn(it, r); err != nil {
			return err
		}
	}
}

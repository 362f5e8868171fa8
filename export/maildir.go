package export

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/maildir"
)

// maildirSource reads a Maildir++ tree.
type maildirSource struct {
	s    *maildir.Store
	path string
}

// OpenMaildir opens the Maildir++ tree at path (the directory that holds
// INBOX's cur/ and new/) for export.
func OpenMaildir(path string) (Source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	s, err := maildir.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("open Maildir: %w", err)
	}
	return &maildirSource{s: s, path: abs}, nil
}

func (m *maildirSource) Describe() format.Source {
	return format.Source{Kind: format.SourceMaildir, Endpoint: m.path}
}

func (m *maildirSource) DefaultAccount() string { return m.path }

func (m *maildirSource) Close() {}

func (m *maildirSource) List(context.Context) (Listing, error) {
	folders, err := m.s.Folders()
	return Listing{Folders: folders}, err
}

func (m *maildirSource) Examine(ctx context.Context, f format.Folder) (format.Folder, []Item, error) {
	var items []Item
	err := m.s.Messages(f.Name, func(msg maildir.Message, _ io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		items = append(items, Item{UID: uint32(len(items) + 1), Name: msg.Path, Size: msg.Size, Flags: msg.Flags,
			InternalDate: msg.InternalDate, DateSource: format.DateFromMtime})
		return nil
	})
	return f, items, err
}

func (m *maildirSource) NewReader() MessageReader { return m }

// Read reads the files again in the order Examine listed them. A file a
// running server renamed meanwhile (a flag change, new/ to cur/) is found
// by the unique part of its name; flags and date stay those examined.
func (m *maildirSource) Read(ctx context.Context, f format.Folder, items []Item, sink Sink) error {
	want := make(map[string]Item, len(items))
	for _, it := range items {
		want[maildirKey(it.Name)] = it
	}
	var stop error
	err := m.s.Messages(f.Name, func(msg maildir.Message, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			stop = err
			return err
		}
		key := maildirKey(msg.Path)
		it, ok := want[key]
		if !ok {
			return nil
		}
		delete(want, key)
		stop = putLocal(ctx, sink, f, it, r)
		return stop
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		for _, it := range want {
			sink.Fail(f, it, err)
		}
		return nil
	}
	for _, it := range want {
		sink.Warn(fmt.Sprintf("folder %q: %s was removed during the export", f.Name, it.Name))
	}
	return nil
}

// maildirKey is a message file's unique part: its name without the
// info (":2,FLAGS") that a flag change rewrites.
func maildirKey(path string) string {
	name := filepath.Base(path)
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	return filepath.Join(filepath.Dir(filepath.Dir(path)), name)
}

// putLocal stores one message read from a store on disk: a read error
// fails that message only; any other error stops the export.
func putLocal(ctx context.Context, sink Sink, f format.Folder, it Item, r io.Reader) error {
	err := sink.Put(ctx, f, it, r)
	if err != nil && isSourceError(err) {
		sink.Fail(f, it, err)
		return nil
	}
	return err
}

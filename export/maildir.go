package export

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/maildir"
)

// maildirStore reads a Maildir++ tree for Local.
type maildirStore struct {
	s    *maildir.Store
	path string
}

// OpenMaildir opens the Maildir++ tree at path (the directory that holds
// INBOX's cur/ and new/) for export.
func OpenMaildir(path string) (LocalStore, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	s, err := maildir.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("open Maildir: %w", err)
	}
	return &maildirStore{s: s, path: abs}, nil
}

func (m *maildirStore) Source() format.Source {
	return format.Source{Kind: format.SourceMaildir, Endpoint: m.path}
}

func (m *maildirStore) Folders() ([]format.Folder, error) { return m.s.Folders() }

func (m *maildirStore) Messages(folder string, fn func(LocalMessage, io.Reader) error) error {
	return m.s.Messages(folder, func(msg maildir.Message, r io.Reader) error {
		return fn(LocalMessage{Item: msg.Path, Flags: msg.Flags, InternalDate: msg.InternalDate, DateSource: format.DateFromMtime}, r)
	})
}

package export

import (
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

// mboxStore reads an mbox file, or a directory tree of them, for Local.
type mboxStore struct {
	path    string
	folders []mbox.FolderFile
}

// OpenMbox opens an mbox file or a directory of mbox files for export.
func OpenMbox(path string) (LocalStore, error) {
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
	return &mboxStore{path: abs, folders: folders}, nil
}

func (m *mboxStore) Source() format.Source {
	return format.Source{Kind: format.SourceMbox, Endpoint: m.path}
}

func (m *mboxStore) Folders() ([]format.Folder, error) {
	out := make([]format.Folder, len(m.folders))
	for i, f := range m.folders {
		out[i] = f.Folder
	}
	return out, nil
}

func (m *mboxStore) Messages(folder string, fn func(LocalMessage, io.Reader) error) error {
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
		lm := LocalMessage{Item: fmt.Sprintf("%s message %d", path, n), Flags: msg.Flags, InternalDate: msg.FromLineDate, DateSource: format.DateFromFromLine}
		if msg.DateErr != nil || lm.InternalDate.IsZero() {
			slog.Warn("mbox From_ line has no readable date; using the export time", "file", path, "message", n, "error", msg.DateErr)
			lm.InternalDate, lm.DateSource = time.Now().Truncate(time.Second), format.DateFromExport
		}
		if err := fn(lm, r); err != nil {
			return err
		}
	}
}

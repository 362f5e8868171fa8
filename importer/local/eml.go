package local

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailferry/mailferry/format"
)

// EML writes each message as a file DIR/<folder path>/<uid>.eml, the
// exact bytes and nothing else: flags and dates do not survive, which is
// what .eml files are (Thunderbird and most clients open them one by one).
type EML struct {
	root    string
	folders map[string]string // folder name -> directory
}

// NewEML writes under root, creating it. Directories are 0700 and files
// 0600, as in the archive: they hold someone's mail.
func NewEML(root string) (*EML, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	return &EML{root: root, folders: map[string]string{}}, nil
}

// CreateFolder makes the folder's directory: one level per hierarchy level.
func (t *EML) CreateFolder(f format.Folder) error {
	dir := filepath.Join(t.root, folderPath(f))
	t.folders[f.Name] = dir
	return os.MkdirAll(dir, 0o700)
}

// Deliver writes the message as <uid>.eml (or its position for POP3).
func (t *EML) Deliver(m format.Message, r io.Reader) error {
	dir, ok := t.folders[m.Folder]
	if !ok {
		return fmt.Errorf("folder %q was not created", m.Folder)
	}
	name := fmt.Sprintf("%d.eml", m.UID)
	if m.UID == 0 {
		name = url.PathEscape(m.UIDL) + ".eml"
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chtimes(f.Name(), m.InternalDate, m.InternalDate)
}

// SetSubscriptions does nothing: a directory of files has no subscriptions.
func (t *EML) SetSubscriptions([]string) error { return nil }

// Close does nothing; every file is complete when Deliver returns.
func (t *EML) Close() error { return nil }

// folderPath turns a folder name into a relative path, one directory per
// level, escaping what a file name cannot hold or would misread.
func folderPath(f format.Folder) string {
	levels := []string{f.Name}
	if f.Delimiter != "" {
		levels = strings.Split(f.Name, f.Delimiter)
	}
	for i, l := range levels {
		l = strings.NewReplacer("%", "%25", "/", "%2F", "\x00", "%00").Replace(l)
		switch l {
		case "", ".", "..":
			// A lone % cannot come from escaping, so this stays unambiguous.
			l = "%" + l
		}
		levels[i] = l
	}
	return filepath.Join(levels...)
}

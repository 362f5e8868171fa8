package maildir

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mailferry/mailferry/format"
)

// LIST attributes this package reports.
const (
	attrNoselect      = `\Noselect`
	attrHasChildren   = `\HasChildren`
	attrHasNoChildren = `\HasNoChildren`
)

// subfolderMarker is the empty file Dovecot puts in every folder directory
// but the root. Readers here do not need it.
const subfolderMarker = "maildirfolder"

// Folders returns the tree's folders: INBOX first, then the others sorted by
// name, with Delimiter "." and Subscribed from the subscriptions file. A
// parent that has no directory of its own (.A.B without .A) is listed with
// \Noselect, as IMAP shows it. Every folder has \HasChildren or
// \HasNoChildren.
//
// A directory whose name is not valid modified UTF-7 is an error naming it,
// rather than a folder skipped: its mail would go missing from the export
// without anyone noticing. Renaming the directory (or moving its mail) is the
// way out.
func (s *Store) Folders() ([]format.Folder, error) {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	exists := map[string]bool{inbox: true}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, Delimiter) || n == "." || n == ".." {
			continue
		}
		dir := filepath.Join(s.root, n)
		// Stat follows symlinks: shared folders are often links.
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		ok, err := isMaildir(dir)
		if err != nil {
			return nil, fmt.Errorf("list folders: %w", err)
		}
		if !ok {
			continue
		}
		name, err := dirFolder(n)
		if err != nil {
			return nil, fmt.Errorf("list folders in %q: %w", s.root, err)
		}
		if strings.EqualFold(name, inbox) {
			return nil, fmt.Errorf("list folders: directory %q would be a second INBOX beside the root %q", dir, s.root)
		}
		exists[name] = true
	}

	all := make(map[string]bool) // name -> selectable
	parents := make(map[string]bool)
	for name := range exists {
		all[name] = true
		levels := strings.Split(name, Delimiter)
		for i := 1; i < len(levels); i++ {
			p := strings.Join(levels[:i], Delimiter)
			parents[p] = true
			if !exists[p] {
				all[p] = false
			}
		}
	}
	subs, err := s.subscribed()
	if err != nil {
		return nil, err
	}

	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(inboxRank(b), inboxRank(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	folders := make([]format.Folder, 0, len(names))
	for _, n := range names {
		f := format.Folder{Name: n, Delimiter: Delimiter, Subscribed: subs[n]}
		if !all[n] {
			f.Attributes = append(f.Attributes, attrNoselect)
		}
		if parents[n] {
			f.Attributes = append(f.Attributes, attrHasChildren)
		} else {
			f.Attributes = append(f.Attributes, attrHasNoChildren)
		}
		folders = append(folders, f)
	}
	return folders, nil
}

// CreateFolder makes the directory of archive folder f (its name split at
// f.Delimiter; see FolderName for what cannot be stored) with cur/, new/,
// tmp/ and Dovecot's maildirfolder file, and returns the name to pass to
// Deliver. INBOX is the root, which always exists. A folder with \Noselect is
// not created: Maildir++ shows a parent without a directory that way, so the
// name is returned and nothing is made.
func (s *Store) CreateFolder(f format.Folder) (string, error) {
	name, err := FolderName(f)
	if err != nil {
		return "", fmt.Errorf("create folder: %w", err)
	}
	rel, err := folderDir(name)
	if err != nil || rel == "" || f.HasAttribute(attrNoselect) {
		return name, err
	}
	dir := filepath.Join(s.root, rel)
	if err := makeMaildir(dir); err != nil {
		return "", fmt.Errorf("create folder %q: %w", name, err)
	}
	marker := filepath.Join(dir, subfolderMarker)
	mf, err := os.OpenFile(marker, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("create folder %q: %w", name, err)
	}
	if err := mf.Close(); err != nil {
		return "", fmt.Errorf("create folder %q: %w", name, err)
	}
	return name, nil
}

// dir returns the directory of folder name, which must exist.
func (s *Store) dir(name string) (string, error) {
	rel, err := folderDir(name)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(s.root, rel)
	if ok, err := isMaildir(dir); err != nil || !ok {
		return "", fmt.Errorf("folder %q: no Maildir at %q", name, dir)
	}
	return dir, nil
}

// inboxRank puts INBOX and its children before the other folders.
func inboxRank(name string) int {
	if name == inbox || strings.HasPrefix(name, inbox+Delimiter) {
		return 1
	}
	return 0
}

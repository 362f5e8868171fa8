package mbox

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mailferry/mailferry/format"
)

// Delimiter is the hierarchy delimiter of folders in an mbox tree.
const Delimiter = "/"

const inbox = "INBOX"

// sbd is the suffix of Thunderbird's directory that holds a folder's children.
const sbd = ".sbd"

// FolderFile is a folder of an mbox tree and the file that holds it.
type FolderFile struct {
	Folder format.Folder
	// Path is the mbox file, "" for a parent that has children but no file
	// (listed with \Noselect).
	Path string
}

// Folders returns the folders at path, INBOX first and the others sorted by
// name.
//
// A file is one folder, named after the file without a ".mbox" or ".mbx"
// suffix; a file named inbox in any case is INBOX. Which file is someone's
// inbox cannot be told from its name in general (/var/mail/alice is), so
// other names are kept and left to the importer's rename rules.
//
// A directory is a tree: each mbox file in it is a folder named by its path
// relative to the directory, levels joined by "/", and a top-level file named
// inbox in any case is INBOX. Thunderbird keeps the children of folder A in
// A.sbd/, plain directories are levels too (A/B is folder A/B). A file is an
// mbox if its first non-empty line starts with "From "; an empty file is an
// empty folder. Dot files, Thunderbird's .msf index files and .lock files are
// passed over; other files that are not mbox, and links to directories, are
// returned in skipped, so that the caller can say so.
//
// Folders with a file are Subscribed: mbox has no subscriptions, and a folder
// nobody can see in a client after import would look lost.
func Folders(path string) (folders []FolderFile, skipped []string, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("list mbox folders: %w", err)
	}
	if !fi.IsDir() {
		ok, err := isMbox(path)
		if err != nil {
			return nil, nil, fmt.Errorf("list mbox folders: %w", err)
		}
		if !ok {
			return nil, nil, fmt.Errorf("%q: %w", path, ErrNotMbox)
		}
		name := filepath.Base(path)
		for _, ext := range []string{".mbox", ".mbx"} {
			if n := strings.TrimSuffix(name, ext); n != "" {
				name = n
			}
		}
		if strings.EqualFold(name, inbox) {
			name = inbox
		}
		f := format.Folder{Name: name, Delimiter: Delimiter, Subscribed: true, Attributes: []string{`\HasNoChildren`}}
		return []FolderFile{{Folder: f, Path: path}}, nil, nil
	}

	t := &tree{files: make(map[string]string), parents: make(map[string]bool)}
	if err := t.walk(path, nil); err != nil {
		return nil, nil, fmt.Errorf("list mbox folders in %q: %w", path, err)
	}
	names := make([]string, 0, len(t.files))
	for n := range t.files {
		names = append(names, n)
	}
	for n := range t.parents {
		if _, ok := t.files[n]; !ok {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(inboxRank(b), inboxRank(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, n := range names {
		ff := FolderFile{Folder: format.Folder{Name: n, Delimiter: Delimiter}, Path: t.files[n]}
		if ff.Path == "" {
			ff.Folder.Attributes = append(ff.Folder.Attributes, `\Noselect`)
		} else {
			ff.Folder.Subscribed = true
		}
		if t.parents[n] {
			ff.Folder.Attributes = append(ff.Folder.Attributes, `\HasChildren`)
		} else {
			ff.Folder.Attributes = append(ff.Folder.Attributes, `\HasNoChildren`)
		}
		folders = append(folders, ff)
	}
	return folders, t.skipped, nil
}

// tree collects the folders of a directory.
type tree struct {
	files   map[string]string // folder name -> file
	parents map[string]bool   // folders that have children
	skipped []string
}

func (t *tree) walk(dir string, levels []string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(levels) > 0 {
		t.parents[strings.Join(levels, Delimiter)] = true
	}
	for _, e := range entries {
		n := e.Name()
		path := filepath.Join(dir, n)
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".msf") || strings.HasSuffix(n, ".lock") {
			continue
		}
		if !utf8.ValidString(n) {
			return fmt.Errorf("file name %q is not UTF-8, so it cannot be a folder name", path)
		}
		fi, err := os.Stat(path) // follows symlinks
		if err != nil {
			return err
		}
		if fi.IsDir() && e.Type()&fs.ModeSymlink != 0 {
			// A link to a directory may lead back up the tree.
			t.skipped = append(t.skipped, path)
			continue
		}
		if fi.IsDir() {
			level := strings.TrimSuffix(n, sbd)
			if len(levels) == 0 && strings.EqualFold(level, inbox) {
				level = inbox // Thunderbird's Inbox.sbd/ holds INBOX's children
			}
			if err := t.walk(path, append(slices.Clip(levels), level)); err != nil {
				return err
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		ok, err := isMbox(path)
		if err != nil {
			return err
		}
		if !ok {
			t.skipped = append(t.skipped, path)
			continue
		}
		name := strings.Join(append(slices.Clip(levels), n), Delimiter)
		if len(levels) == 0 && strings.EqualFold(n, inbox) {
			name = inbox
		}
		if other, dup := t.files[name]; dup {
			return fmt.Errorf("%q and %q are both folder %q", other, path, name)
		}
		t.files[name] = path
	}
	return nil
}

// isMbox reports whether the file at path is empty, blank, or has "From " at
// the start of its first non-empty line.
func isMbox(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return false, fmt.Errorf("read %q: %w", path, err)
	}
	head := bytes.TrimLeft(buf[:n], "\r\n")
	if len(head) == 0 {
		return n < len(buf), nil
	}
	return bytes.HasPrefix(head, []byte("From ")), nil
}

// inboxRank puts INBOX and its children before the other folders.
func inboxRank(name string) int {
	if name == inbox || strings.HasPrefix(name, inbox+Delimiter) {
		return 1
	}
	return 0
}

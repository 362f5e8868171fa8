package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Store is one Maildir++ tree: its root is INBOX, its .Name directories the
// other folders.
//
// Reading methods may be called from several goroutines at once. Deliver,
// CreateFolder and SetSubscriptions must be called from one goroutine at a
// time: Deliver keeps each folder's keyword letters and a delivery counter.
type Store struct {
	root     string
	host     string
	pid      int
	counter  int
	keywords map[string]*keywords // by folder directory, for Deliver
}

// Open opens the Maildir++ tree at root. It fails, naming root, if root has
// no cur/ and new/ directories.
func Open(root string) (*Store, error) {
	for _, sub := range []string{"cur", "new"} {
		fi, err := os.Stat(filepath.Join(root, sub))
		if err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("open maildir %q: %w", root, ErrNotMaildir)
		}
	}
	return newStore(root), nil
}

// Create makes a Maildir++ tree at root (root and its cur/, new/ and tmp/,
// as needed) and opens it.
func Create(root string) (*Store, error) {
	if err := makeMaildir(root); err != nil {
		return nil, fmt.Errorf("create maildir: %w", err)
	}
	return newStore(root), nil
}

func newStore(root string) *Store {
	host, _ := os.Hostname()
	return &Store{
		root:     root,
		host:     safeHost(host),
		pid:      os.Getpid(),
		keywords: make(map[string]*keywords),
	}
}

// Root returns the directory of the tree (INBOX).
func (s *Store) Root() string { return s.root }

// makeMaildir creates dir with cur/, new/ and tmp/. Mail is private, so
// everything is readable by its owner only.
func makeMaildir(dir string) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// isMaildir reports whether dir holds a cur/ or a new/ directory. Folders
// need one of them: other dot directories in a root are not mail (notmuch
// keeps its database in .notmuch).
func isMaildir(dir string) (bool, error) {
	for _, sub := range []string{"cur", "new"} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err == nil && fi.IsDir() {
			return true, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
	}
	return false, nil
}

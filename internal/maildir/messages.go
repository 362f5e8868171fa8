package maildir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailferry/mailferry/format"
)

// Message is one message file of a folder.
type Message struct {
	Path  string
	Flags format.Flags
	// InternalDate is the file's modification time, in UTC: Maildir keeps no
	// zone. Its precision is the file system's (nanoseconds on ext4, XFS).
	InternalDate time.Time
	Size         int64
}

// Messages calls fn for every message of folder, in the order of the file
// names (so a message keeps its place when a client moves it from new/ to
// cur/), with the open file as r. The file is closed when fn returns; fn's
// error stops the walk and is returned, wrapped with the file's path.
//
// A file that a running mail server renames between listing and opening
// (a flag change, new/ to cur/) is looked up again by its unique part; one
// that is gone entirely was expunged and is skipped.
func (s *Store) Messages(folder string, fn func(m Message, r io.Reader) error) error {
	dir, err := s.dir(folder)
	if err != nil {
		return fmt.Errorf("list messages: %w", err)
	}
	kw, err := readKeywords(dir)
	if err != nil {
		return fmt.Errorf("list messages of %q: %w", folder, err)
	}
	files, err := listMessageFiles(dir)
	if err != nil {
		return fmt.Errorf("list messages of %q: %w", folder, err)
	}
	listed := make(map[string]bool, len(files))
	for _, rel := range files {
		listed[rel] = true
	}
	for _, rel := range files {
		if err := message(dir, rel, kw, listed, fn); err != nil {
			return err
		}
	}
	return nil
}

// listMessageFiles returns the message files of folder directory dir as
// "new/<name>" and "cur/<name>", sorted by name. Dot files are not messages.
func listMessageFiles(dir string) ([]string, error) {
	var files []string
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") && !e.IsDir() {
				files = append(files, sub+"/"+e.Name())
			}
		}
	}
	slices.SortFunc(files, func(a, b string) int {
		if c := strings.Compare(a[4:], b[4:]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return files, nil
}

// message hands one file to fn. listed holds every file of the listing.
func message(dir, rel string, kw *keywords, listed map[string]bool, fn func(Message, io.Reader) error) error {
	path := filepath.Join(dir, rel)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		rel, err = relocate(dir, rel)
		if err == nil && (rel == "" || listed[rel]) {
			// Expunged while we were listing, or moved to a name the
			// listing also caught, which comes up in its own turn.
			return nil
		}
		if err == nil {
			path = filepath.Join(dir, rel)
			f, err = os.Open(path)
		}
	}
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	m := Message{
		Path:         path,
		Flags:        format.Flags{},
		InternalDate: fi.ModTime().UTC(),
		Size:         fi.Size(),
	}
	if strings.HasPrefix(rel, "cur/") {
		m.Flags = parseInfo(filepath.Base(rel), kw)
	}
	if err := fn(m, f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// relocate finds the file that rel became after a client renamed it, by the
// unique part of its name; "" if there is none.
func relocate(dir, rel string) (string, error) {
	files, err := listMessageFiles(dir)
	if err != nil {
		return "", err
	}
	want := uniquePart(rel[4:])
	for _, f := range files {
		if uniquePart(f[4:]) == want {
			return f, nil
		}
	}
	return "", nil
}

package maildir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mailferry/mailferry/format"
)

// Deliver stores the message read from r in folder (a name as Folders or
// CreateFolder return it) with flags, and sets the file's modification time
// to date, Maildir's internal date (a zero date leaves the time of delivery).
// It returns the new file's path.
//
// The message goes the Maildir way: written to tmp/, synced, then linked into
// cur/ under its final name "<unique>,S=<size>:2,<flags>" and the directory
// synced, so a crash leaves either no message or a whole one. Keywords get
// the folder's next free letter in dovecot-keywords; when all 26 are taken by
// other keywords, Deliver writes nothing and returns an error matching
// ErrTooManyKeywords that names the keyword, for the caller to decide
// (deliver without it, or stop) rather than have it dropped unseen.
//
// Deliver must not be called from several goroutines at once.
func (s *Store) Deliver(folder string, flags format.Flags, date time.Time, r io.Reader) (string, error) {
	dir, err := s.dir(folder)
	if err != nil {
		return "", fmt.Errorf("deliver: %w", err)
	}
	kw, err := s.folderKeywords(dir)
	if err != nil {
		return "", fmt.Errorf("deliver to %q: %w", folder, err)
	}
	letters, err := infoLetters(flags, kw)
	if err != nil {
		return "", fmt.Errorf("deliver to %q: %w", folder, err)
	}
	if kw.dirty {
		if err := kw.write(dir); err != nil {
			return "", fmt.Errorf("deliver to %q: %w", folder, err)
		}
	}

	tmp, unique, size, err := s.writeTmp(dir, r)
	if err != nil {
		return "", fmt.Errorf("deliver to %q: %w", folder, err)
	}
	defer os.Remove(tmp) // after the link, only the tmp/ name goes
	if !date.IsZero() {
		if err := os.Chtimes(tmp, date, date); err != nil {
			return "", fmt.Errorf("deliver to %q: %w", folder, err)
		}
	}
	name := unique + ",S=" + strconv.FormatInt(size, 10) + infoPrefix + letters
	path := filepath.Join(dir, "cur", name)
	if err := publish(tmp, path); err != nil {
		return "", fmt.Errorf("deliver to %q: %w", folder, err)
	}
	if err := syncDir(filepath.Join(dir, "cur")); err != nil {
		return "", fmt.Errorf("deliver to %q: %w", folder, err)
	}
	return path, nil
}

// folderKeywords returns the keyword table of folder directory dir, read on
// first use; Deliver is the only writer of it while the Store is in use.
func (s *Store) folderKeywords(dir string) (*keywords, error) {
	if kw := s.keywords[dir]; kw != nil {
		return kw, nil
	}
	kw, err := readKeywords(dir)
	if err != nil {
		return nil, err
	}
	s.keywords[dir] = kw
	return kw, nil
}

// writeTmp copies r into a new file in dir's tmp/ and syncs it. It returns
// the file's path, the unique part of its name and its size.
func (s *Store) writeTmp(dir string, r io.Reader) (path, unique string, size int64, err error) {
	var f *os.File
	for tries := 0; ; tries++ {
		now := time.Now()
		s.counter++
		unique = uniqueName(now.Unix(), int64(now.Nanosecond()/1000), s.pid, s.counter, s.host)
		path = filepath.Join(dir, "tmp", unique)
		f, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			break
		}
		// Another Store in this process may share pid, counter and
		// microsecond: take the next counter.
		if !errors.Is(err, fs.ErrExist) || tries == 10 {
			return "", "", 0, err
		}
	}
	size, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", "", 0, fmt.Errorf("write %q: %w", path, err)
	}
	return path, unique, size, nil
}

// publish gives the file at tmp its final name. A hard link cannot replace a
// file that is already there, so two deliveries can never overwrite each
// other; file systems without hard links get a rename.
func publish(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(path); serr == nil {
		return fmt.Errorf("link %q: %w", path, fs.ErrExist)
	}
	return os.Rename(tmp, path)
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %q: %w", dir, err)
	}
	return nil
}

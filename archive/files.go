package archive

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mailferry/mailferry/format"
)

// Every archive file but config is named by the SHA-256 of its bytes and
// written once: written under tmp/, synced, then renamed into place. A crash
// leaves at most a stray file in tmp/, never a half-written named file.

// tempFile is a file under tmp/ that hashes what is written to it.
type tempFile struct {
	f    *os.File
	h    hash.Hash
	n    int64
	dir  string
	done bool
}

func (a *Archive) newTempFile() (*tempFile, error) {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	name := filepath.Join(a.dir, dirTmp, hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fileMode)
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	return &tempFile{f: f, h: sha256.New(), dir: a.dir}, nil
}

func (t *tempFile) Write(p []byte) (int, error) {
	n, err := t.f.Write(p)
	t.h.Write(p[:n])
	t.n += int64(n)
	return n, err
}

// commit syncs the file and renames it to kind's directory under the name of
// its hash. A file of that name already there holds the same bytes, so the
// rename simply replaces it with an identical one.
func (t *tempFile) commit(kind string) (format.ID, error) {
	var id format.ID
	copy(id[:], t.h.Sum(nil))
	if err := t.f.Sync(); err != nil {
		t.abort()
		return id, fmt.Errorf("sync %s: %w", kind, err)
	}
	if err := t.f.Close(); err != nil {
		t.abort()
		return id, fmt.Errorf("close %s: %w", kind, err)
	}
	dst := filePath(t.dir, kind, id)
	if err := os.MkdirAll(filepath.Dir(dst), dirMode); err != nil {
		t.abort()
		return id, err
	}
	if err := os.Rename(t.f.Name(), dst); err != nil {
		t.abort()
		return id, fmt.Errorf("store %s %s: %w", kind, id.Short(), err)
	}
	t.done = true
	return id, syncDir(filepath.Dir(dst))
}

// abort removes the temporary file; safe to call after commit.
func (t *tempFile) abort() {
	if t.done {
		return
	}
	t.done = true
	t.f.Close()
	os.Remove(t.f.Name())
}

// filePath is where a file of kind (dirPacks, dirIndex, dirSnapshots) with
// that id lives. Packs are spread over 256 subdirectories by their first byte.
func filePath(dir, kind string, id format.ID) string {
	s := id.String()
	if kind == dirPacks {
		return filepath.Join(dir, kind, s[:2], s)
	}
	return filepath.Join(dir, kind, s)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// listFiles returns the ids of the files of a kind, with any names that are
// not ids returned separately so verify can name them.
func (a *Archive) listFiles(kind string) (ids []format.ID, strays []string, err error) {
	root := filepath.Join(a.dir, kind)
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if path == root && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir // a copy without its empty directories
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		id, perr := format.ParseID(d.Name())
		if perr != nil || (kind == dirPacks && filepath.Base(filepath.Dir(path)) != d.Name()[:2]) {
			strays = append(strays, path)
			return nil
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", kind, err)
	}
	return ids, strays, nil
}

// readFile reads a whole small file (index, snapshot) of a kind.
func (a *Archive) openFile(kind string, id format.ID) (*os.File, error) {
	return os.Open(filePath(a.dir, kind, id))
}

var _ io.Writer = (*tempFile)(nil)

package archive

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mailferry/mailferry/format"
)

// The archive directory's layout (format/SPEC.md, "Layout").
const (
	fileConfig   = "config"
	dirPacks     = "packs"
	dirIndex     = "index"
	dirSnapshots = "snapshots"
	dirTmp       = "tmp"
)

// Archive files hold people's mail: only their owner may read them.
const (
	dirMode  = 0o700
	fileMode = 0o600
)

// ErrNotArchive means a directory holds no archive config file.
var ErrNotArchive = errors.New("not a mailferry archive")

// Archive is an open archive directory. Its methods are safe for concurrent
// use; several processes may write to one archive at once.
type Archive struct {
	dir    string
	config format.Config
}

// Dir returns the archive's directory.
func (a *Archive) Dir() string { return a.dir }

// Config returns the archive's config.
func (a *Archive) Config() format.Config { return a.config }

// Open opens an existing archive. It writes nothing, so a read-only copy
// opens for reading; a Writer creates the directories it needs.
func Open(dir string) (*Archive, error) {
	b, err := os.ReadFile(filepath.Join(dir, fileConfig))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open archive %s: %w (no config file)", dir, ErrNotArchive)
	}
	if err != nil {
		return nil, fmt.Errorf("open archive %s: %w", dir, err)
	}
	cfg, err := format.DecodeConfig(b)
	if err != nil {
		return nil, fmt.Errorf("open archive %s: %w", dir, err)
	}
	return &Archive{dir: dir, config: cfg}, nil
}

// prepareWrite creates the directories writers use, for an archive opened
// read-only or copied without its empty directories.
func (a *Archive) prepareWrite() error {
	for _, d := range []string{dirPacks, dirIndex, dirSnapshots, dirTmp} {
		if err := os.MkdirAll(filepath.Join(a.dir, d), dirMode); err != nil {
			return fmt.Errorf("archive %s: %w", a.dir, err)
		}
	}
	return nil
}

// OpenOrCreate opens the archive in dir, creating it first if dir is empty or
// missing. Two processes creating the same archive at once both end up with
// the one that was created first. A new archive is of format.Version.
func OpenOrCreate(dir string) (*Archive, error) {
	return openOrCreate(dir, format.Version)
}

// openOrCreate creates an archive of the given format version, so that
// tests can make the archives older mailferry versions made.
func openOrCreate(dir string, version int) (*Archive, error) {
	if _, err := os.Stat(filepath.Join(dir, fileConfig)); err == nil {
		return Open(dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, dirTmp), dirMode); err != nil {
		return nil, fmt.Errorf("create archive %s: %w", dir, err)
	}
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	b, err := format.EncodeConfig(format.Config{
		Version:           version,
		ID:                hex.EncodeToString(rnd[:]),
		Created:           time.Now().UTC().Truncate(time.Second),
		ChunkerPolynomial: format.ChunkerPolynomial,
	})
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(dir, dirTmp, "config-"+hex.EncodeToString(rnd[:8]))
	if err := writeSynced(tmp, b); err != nil {
		return nil, fmt.Errorf("create archive %s: %w", dir, err)
	}
	defer os.Remove(tmp)
	// A hard link never replaces an existing file, so of two creators racing
	// here exactly one config wins and both go on with it.
	if err := os.Link(tmp, filepath.Join(dir, fileConfig)); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create archive %s: %w", dir, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	a, err := Open(dir)
	if err != nil {
		return nil, err
	}
	if err := a.prepareWrite(); err != nil {
		return nil, err
	}
	return a, nil
}

func writeSynced(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fileMode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

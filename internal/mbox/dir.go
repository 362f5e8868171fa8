package mbox

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/mailferry/mailferry/format"
)

// Dir is a directory of mbox files being written, laid out as Thunderbird
// does: folder A/B is the file A.sbd/B beside a file A, and INBOX is the file
// INBOX. Folders reads such a directory back.
type Dir struct {
	root string
}

// CreateDir makes the directory root (if needed) for writing mbox files.
func CreateDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create mbox directory: %w", err)
	}
	return &Dir{root: root}, nil
}

// Path returns the file that holds folder f (its name split at f.Delimiter)
// under the directory. A level that is empty, "." or "..", starts with "."
// (Folders passes dot files over), ends in ".sbd", ".msf" or ".lock" (which
// Folders would read as something else), or holds "/" or a NUL cannot be a
// file name here: the error matches ErrFolderName, and the importer's rename
// rules are the way out.
func (d *Dir) Path(f format.Folder) (string, error) {
	if strings.EqualFold(f.Name, inbox) {
		return filepath.Join(d.root, inbox), nil
	}
	levels := []string{f.Name}
	if f.Delimiter != "" {
		levels = strings.Split(f.Name, f.Delimiter)
	}
	parts := make([]string, len(levels))
	for i, l := range levels {
		if err := checkLevel(l); err != nil {
			return "", fmt.Errorf("folder %q: %w", f.Name, err)
		}
		parts[i] = l
		if i < len(levels)-1 {
			parts[i] = l + sbd
		}
	}
	if strings.EqualFold(parts[0], inbox+sbd) {
		parts[0] = inbox + sbd
	}
	return filepath.Join(d.root, filepath.Join(parts...)), nil
}

func checkLevel(l string) error {
	switch {
	case l == "" || l == "." || l == "..":
		return fmt.Errorf("level %q: %w", l, ErrFolderName)
	case strings.HasPrefix(l, "."):
		return fmt.Errorf("level %q starts with \".\": %w", l, ErrFolderName)
	case strings.HasSuffix(l, sbd) || strings.HasSuffix(l, ".msf") || strings.HasSuffix(l, ".lock"):
		return fmt.Errorf("level %q ends like a Thunderbird or lock file: %w", l, ErrFolderName)
	case strings.ContainsAny(l, "/\x00"):
		return fmt.Errorf("level %q holds \"/\" or NUL: %w", l, ErrFolderName)
	case !utf8.ValidString(l):
		return fmt.Errorf("level %q is not UTF-8: %w", l, ErrFolderName)
	}
	return nil
}

// CreateFolder makes the file of folder f, empty if it does not exist yet,
// and those of its parents (with their .sbd directories), as Thunderbird
// needs a file for every folder that has children. It returns the file's
// path. A \Noselect folder gets an empty file too: mbox has no folder that
// cannot hold mail.
func (d *Dir) CreateFolder(f format.Folder) (string, error) {
	path, err := d.Path(f)
	if err != nil {
		return "", fmt.Errorf("create mbox folder: %w", err)
	}
	rel, err := filepath.Rel(d.root, path)
	if err != nil {
		return "", fmt.Errorf("create mbox folder %q: %w", f.Name, err)
	}
	p := d.root
	parts := strings.Split(rel, string(filepath.Separator))
	for i, part := range parts {
		p = filepath.Join(p, part)
		file := p
		if i < len(parts)-1 {
			file = strings.TrimSuffix(p, sbd)
			if err := os.MkdirAll(p, 0o700); err != nil {
				return "", fmt.Errorf("create mbox folder %q: %w", f.Name, err)
			}
		}
		fh, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return "", fmt.Errorf("create mbox folder %q: %w", f.Name, err)
		}
		if err := fh.Close(); err != nil {
			return "", fmt.Errorf("create mbox folder %q: %w", f.Name, err)
		}
	}
	return path, nil
}

// FileWriter appends messages to one mbox file.
type FileWriter struct {
	*Writer
	file *os.File
}

// Append creates folder f as CreateFolder does and opens its file to append
// messages. If the file's last message lacks its line ending, one is added
// first, so the next From_ line starts a line.
func (d *Dir) Append(f format.Folder) (*FileWriter, error) {
	path, err := d.CreateFolder(f)
	if err != nil {
		return nil, err
	}
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open mbox folder %q: %w", f.Name, err)
	}
	if err := endLine(fh); err != nil {
		fh.Close()
		return nil, fmt.Errorf("open mbox folder %q: %w", f.Name, err)
	}
	return &FileWriter{Writer: NewWriter(fh), file: fh}, nil
}

// endLine makes an mbox file end with an empty line (or be empty). A Reader
// drops one empty line before a From_ line and at the end of the file alike,
// so only a file whose last line lacks its line ending changes what it reads.
func endLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	tail := make([]byte, min(fi.Size(), 3))
	if _, err := f.ReadAt(tail, fi.Size()-int64(len(tail))); err != nil && err != io.EOF {
		return err
	}
	var add string
	switch {
	case bytes.HasSuffix(tail, []byte("\n\n")) || bytes.HasSuffix(tail, []byte("\n\r\n")):
	case tail[len(tail)-1] == '\n':
		add = "\n"
	default:
		add = "\n\n"
	}
	_, err = f.WriteString(add)
	return err
}

// Close syncs the file to disk and closes it.
func (w *FileWriter) Close() error {
	err := w.file.Sync()
	if cerr := w.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close mbox file: %w", err)
	}
	return nil
}

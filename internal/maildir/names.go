package maildir

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mailferry/mailferry/format"
)

// Delimiter is the hierarchy delimiter of Maildir++ folder names. The names
// this package takes and returns are UTF-8 with levels joined by it; on disk
// each level is in modified UTF-7.
const Delimiter = "."

const inbox = "INBOX"

// FolderName returns the name under which f is stored in a Maildir++ tree:
// its levels (f.Name split at f.Delimiter) joined by ".". INBOX in any case is
// INBOX, the tree's root. A level that contains "." cannot be stored: Dovecot
// would read it as two levels, and an escape (Dovecot's listescape "\2e") is
// a plugin setting a reader cannot detect, so such a name is refused with an
// error matching ErrFolderName; the importer's rename rules are the place to
// change it.
func FolderName(f format.Folder) (string, error) {
	if strings.EqualFold(f.Name, inbox) {
		return inbox, nil
	}
	levels := []string{f.Name}
	if f.Delimiter != "" {
		levels = strings.Split(f.Name, f.Delimiter)
	}
	for _, l := range levels {
		if f.Delimiter != Delimiter && strings.Contains(l, Delimiter) {
			return "", fmt.Errorf("folder %q: level %q contains %q, the Maildir++ separator: %w", f.Name, l, Delimiter, ErrFolderName)
		}
	}
	name := strings.Join(levels, Delimiter)
	if _, err := folderDir(name); err != nil {
		return "", err
	}
	return name, nil
}

// folderDir returns the directory, relative to the root, that holds folder
// name ("" for INBOX).
func folderDir(name string) (string, error) {
	if strings.EqualFold(name, inbox) {
		return "", nil
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("folder %q is not valid UTF-8: %w", name, ErrFolderName)
	}
	levels := strings.Split(name, Delimiter)
	var b strings.Builder
	for _, l := range levels {
		switch {
		case l == "":
			return "", fmt.Errorf("folder %q has an empty level: %w", name, ErrFolderName)
		case strings.Contains(l, "/"):
			return "", fmt.Errorf("folder %q: level %q contains \"/\", which a directory name cannot: %w", name, l, ErrFolderName)
		}
		b.WriteString(Delimiter)
		b.WriteString(format.EncodeMUTF7(l))
	}
	return b.String(), nil
}

// dirFolder returns the folder name of a Maildir++ directory name such as
// ".Archive.2024" or ".Entw&APw-rfe".
func dirFolder(dir string) (string, error) {
	levels := strings.Split(strings.TrimPrefix(dir, Delimiter), Delimiter)
	for i, l := range levels {
		if l == "" {
			return "", fmt.Errorf("directory %q has an empty folder level", dir)
		}
		d, err := format.DecodeMUTF7(l)
		if err != nil {
			return "", fmt.Errorf("directory %q: %w", dir, err)
		}
		levels[i] = d
	}
	return strings.Join(levels, Delimiter), nil
}

package foldermap

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mailferry/mailferry/format"
)

// sourceName is a source folder's name taken apart: the namespace prefix
// removed and the rest split into levels.
type sourceName struct {
	// inbox is set for INBOX itself (no levels) and, on a source whose
	// prefix is not "INBOX"+delimiter (Dovecot), for INBOX's children.
	inbox  bool
	levels []string
	delim  string
	// prefix is the namespace prefix as the name spelled it, "" if the
	// name did not start with one.
	prefix string
}

// parseSource takes a source folder's name apart.
func (m *folderMapper) parseSource(f format.Folder) (sourceName, error) {
	delim := f.Delimiter
	if delim == "" {
		delim = m.srcDelim
	}
	if utf8.RuneCountInString(delim) > 1 {
		return sourceName{}, fmt.Errorf("source folder %q: delimiter %q is not one character", f.Name, delim)
	}
	sn := sourceName{delim: delim}
	if isInboxFolderName(f.Name) {
		sn.inbox = true
		return sn, nil
	}
	rest := f.Name
	if m.srcPrefix != "" && hasFoldedPrefix(rest, m.srcPrefix) {
		sn.prefix, rest = rest[:len(m.srcPrefix)], rest[len(m.srcPrefix):]
	}
	if delim == "" {
		sn.levels = []string{rest}
	} else {
		sn.levels = strings.Split(rest, delim)
	}
	// Below an "INBOX." prefix a first level named INBOX is an ordinary
	// folder (Courier's "INBOX.INBOX"); without one it is INBOX itself.
	if sn.prefix == "" && len(sn.levels) > 1 && isInboxFolderName(sn.levels[0]) {
		sn.inbox, sn.levels = true, sn.levels[1:]
	}
	return sn, nil
}

// slashName is the name --include and --exclude match and well-known
// names are looked up by: no prefix, levels joined by "/".
func (sn sourceName) slashName() string {
	if !sn.inbox {
		return strings.Join(sn.levels, "/")
	}
	return strings.Join(append([]string{"INBOX"}, sn.levels...), "/")
}

// nameUpTo is the source name of the folder's first n levels, as the
// source spelled it, for telling which source folder a level stands for.
func (sn sourceName) nameUpTo(n int) string {
	if sn.inbox {
		return strings.Join(append([]string{"INBOX"}, sn.levels[:n]...), sn.delim)
	}
	return sn.prefix + strings.Join(sn.levels[:n], sn.delim)
}

// inferSourcePrefix guesses the prefix of a snapshot that did not record
// its namespace: Courier and Cyrus put every folder but INBOX below
// "INBOX.", and such a tree is taken to have that prefix.
func inferSourcePrefix(src []format.Folder) string {
	prefix := ""
	for _, f := range src {
		if isInboxFolderName(f.Name) {
			continue
		}
		if f.Delimiter == "" || !hasFoldedPrefix(f.Name, "INBOX"+f.Delimiter) {
			return ""
		}
		prefix = "INBOX" + f.Delimiter
	}
	return prefix
}

package foldermap

import (
	"fmt"
	"strings"
)

// legalLevel turns one level of a name into one the destination accepts,
// saying what it changed. Folders are renamed, never dropped: a message
// the destination cannot take into its folder's own name still lands.
//
//   - The destination delimiter inside a level would split it into two;
//     it becomes "_" ("-" where the delimiter itself is "_").
//   - Leading and trailing white space is trimmed: Exchange, Office 365
//     and others refuse it, and it is invisible in every client.
//   - An empty level (a//b, or one that was only spaces) becomes "_".
//   - "." and ".." become "_" and "__": file-system backed servers
//     (Dovecot's Maildir and mbox layouts) refuse them.
func (m *folderMapper) legalLevel(level string) (string, []string) {
	var notes []string
	if m.delim != "" && strings.Contains(level, m.delim) {
		legal := strings.ReplaceAll(level, m.delim, m.replacement)
		notes = append(notes, fmt.Sprintf("%s inside %q -> %s: it is the destination's delimiter", m.delim, level, m.replacement))
		level = legal
	}
	if trimmed := strings.TrimSpace(level); trimmed != level {
		where := "leading and trailing space"
		switch {
		case trimmed == "":
			where = "white space"
		case strings.HasPrefix(level, trimmed):
			where = "trailing space"
		case strings.HasSuffix(level, trimmed):
			where = "leading space"
		}
		notes = append(notes, fmt.Sprintf("%s trimmed: %q", where, level))
		level = trimmed
	}
	if m.opts.CollapseSpaces && strings.Contains(level, "  ") {
		collapsed := strings.Join(strings.Fields(level), " ")
		notes = append(notes, fmt.Sprintf("doubled blanks in %q made single: the destination refuses them", level))
		level = collapsed
	}
	switch level {
	case "":
		notes = append(notes, fmt.Sprintf("empty level -> %q", m.replacement))
		level = m.replacement
	case ".", "..":
		legal := strings.Repeat(m.replacement, len(level))
		notes = append(notes, fmt.Sprintf("level %q -> %q", level, legal))
		level = legal
	}
	return level, notes
}

// reservedTop renames a top-level name the destination keeps for its own.
func (m *folderMapper) reservedTop(level string) (string, []string) {
	for _, r := range m.opts.Reserved {
		if strings.EqualFold(level, r) {
			legal := level + m.replacement
			return legal, []string{fmt.Sprintf("%q -> %q: the destination keeps %q for its own folder", level, legal, r)}
		}
	}
	return level, nil
}

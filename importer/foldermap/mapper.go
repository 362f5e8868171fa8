package foldermap

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mailferry/mailferry/format"
)

// folderMapper holds what Map works out once about the source and
// the destination, and the choices it has made so far.
type folderMapper struct {
	dst  Destination
	opts Options

	srcPrefix string // the source's namespace prefix, given or inferred
	srcDelim  string // the namespace delimiter, for folders that give none

	prefix string // the destination's namespace prefix
	delim  string // the destination's delimiter, "" for a flat namespace
	// inboxPrefix is set when the destination prefix is "INBOX"+delim
	// (Courier, Cyrus): children of INBOX are then the namespace's top.
	inboxPrefix bool
	// replacement stands in for the destination delimiter inside a level.
	replacement string

	into     *destPath // --into, nil without it
	intoNote []string  // what legalising --into changed

	existing map[string]bool   // folded names of the destination's folders
	spelling map[string]string // folded name -> the plan's spelling of it

	// nodes are the levels of all source names, for settling clashes;
	// see clash.go.
	nodes     map[string]*levelNode
	nodeOrder []*levelNode
	inboxNode *levelNode // INBOX's own, which no level may clash into
}

// destPath is a destination name in parts: levels below either the
// namespace prefix or, when inbox is set, INBOX. INBOX itself is an inbox
// path without levels.
type destPath struct {
	inbox  bool
	levels []string
}

func newFolderMapper(src []format.Folder, srcNS *format.Namespace, dst Destination, opts Options) (*folderMapper, error) {
	m := &folderMapper{
		dst:         dst,
		opts:        opts,
		prefix:      dst.Namespace.Prefix,
		delim:       dst.Namespace.Delimiter,
		replacement: "_",
		existing:    map[string]bool{},
		spelling:    map[string]string{},
		nodes:       map[string]*levelNode{},
	}
	if utf8.RuneCountInString(m.delim) > 1 {
		return nil, fmt.Errorf("destination delimiter %q: not one character", m.delim)
	}
	if m.delim == "_" {
		m.replacement = "-"
	}
	m.inboxPrefix = m.delim != "" && strings.EqualFold(m.prefix, "INBOX"+m.delim)
	if srcNS != nil {
		m.srcPrefix, m.srcDelim = srcNS.Prefix, srcNS.Delimiter
	} else {
		m.srcPrefix = inferSourcePrefix(src)
	}
	for i, r := range opts.Rules {
		if r.Pattern == nil {
			return nil, fmt.Errorf("%w %d %q: no pattern", ErrRule, i+1, r.Spec)
		}
	}
	for _, f := range dst.Folders {
		m.existing[m.fold(f.Name)] = true
		m.spelling[m.fold(f.Name)] = f.Name
	}
	// INBOX exists everywhere, whether LIST showed it or not.
	m.existing[m.fold("INBOX")] = true
	m.spelling[m.fold("INBOX")] = "INBOX"
	if opts.Into != "" {
		p, notes := m.parseDestName(opts.Into)
		m.into, m.intoNote = &p, notes
	}
	return m, nil
}

// fold gives the key under which the destination tells names apart.
func (m *folderMapper) fold(name string) string {
	if m.dst.CaseInsensitive {
		return foldFolderCase(name)
	}
	// INBOX is case-insensitive on every server (RFC 3501 5.1), and so is
	// the INBOX level in front of its children.
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	if m.delim != "" && hasFoldedPrefix(name, "INBOX"+m.delim) {
		return "INBOX" + name[len("INBOX"):]
	}
	return name
}

// exists reports whether the destination has the folder already.
func (m *folderMapper) exists(name string) bool {
	return m.existing[m.fold(name)]
}

// rootName is what comes before the first level of a path.
func (m *folderMapper) rootName(inbox bool) string {
	if inbox {
		return "INBOX" + m.delim
	}
	return m.prefix
}

// fullName is the destination name of a path, prefix included.
func (m *folderMapper) fullName(p destPath) string {
	if p.inbox && len(p.levels) == 0 {
		return "INBOX"
	}
	return m.rootName(p.inbox) + strings.Join(p.levels, m.delim)
}

// relativeName is a path as rules see it: without the destination prefix,
// "INBOX" for INBOX and its children.
func (m *folderMapper) relativeName(p destPath) string {
	if !p.inbox {
		return strings.Join(p.levels, m.delim)
	}
	if len(p.levels) == 0 {
		return "INBOX"
	}
	return "INBOX" + m.delim + strings.Join(p.levels, m.delim)
}

// splitDest splits a destination name without prefix into its levels.
func (m *folderMapper) splitDest(name string) []string {
	if m.delim == "" {
		return []string{name}
	}
	return strings.Split(name, m.delim)
}

// parseDestName reads a name written without the destination prefix (a
// rule's result, --into) into a path, making its levels legal.
func (m *folderMapper) parseDestName(name string) (destPath, []string) {
	levels := m.splitDest(name)
	var p destPath
	if isInboxFolderName(levels[0]) {
		p.inbox, levels = true, levels[1:]
	}
	var notes []string
	for _, l := range levels {
		legal, why := m.legalLevel(l)
		p.levels = append(p.levels, legal)
		notes = append(notes, why...)
	}
	if p.inbox && len(p.levels) > 0 && m.inboxPrefix {
		p.inbox = false
	}
	return p, notes
}

// isInboxFolderName reports whether name is INBOX, in any case.
func isInboxFolderName(name string) bool {
	return strings.EqualFold(name, "INBOX")
}

// hasFoldedPrefix is strings.HasPrefix ignoring case.
func hasFoldedPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// foldFolderCase maps each letter to the smallest of the letters that
// strings.EqualFold takes for it, so that equal-fold names get equal keys.
func foldFolderCase(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

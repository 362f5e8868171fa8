package foldermap

import (
	"fmt"
	"strings"

	"github.com/mailferry/mailferry/format"
)

// plannedFolder is one source folder on its way through the steps of
// Map.
type plannedFolder struct {
	out      Mapping
	noselect bool
	// use is the folder's special use, from the snapshot or, when the
	// snapshot gives it none, recognised by a well-known name (useGuessed).
	use        string
	useGuessed bool
	// rootInbox and nodes are the translated name before clashes are
	// settled: its levels, below INBOX or below the namespace prefix.
	rootInbox bool
	nodes     []*levelNode
	path      destPath // the name once clashes are settled, then as rules leave it
	ruled     bool     // a rule renamed the folder
	fixed     string   // an existing destination folder chosen for the special use
}

// translate puts a source folder's name into the destination's terms:
// source prefix off, levels made legal, --into and the destination's
// delimiter and prefix on.
func (m *folderMapper) translate(f format.Folder) (*plannedFolder, error) {
	pf := &plannedFolder{
		out:      Mapping{Source: f},
		noselect: f.HasAttribute(`\Noselect`) || f.HasAttribute(`\NonExistent`),
	}
	sn, err := m.parseSource(f)
	if err != nil {
		return nil, err
	}
	if excluded, why := m.filterOut(sn.slashName()); excluded {
		pf.out.Excluded = true
		pf.out.Changes = []string{why}
		return pf, nil
	}
	pf.use, pf.useGuessed = m.sourceUse(f, sn)
	pf.out.Changes = m.translationNotes(f, sn)

	// Each level carries a key naming the source folder it stands for, so
	// that clash settling can tell one folder's level from another's that
	// happens to come out the same.
	type level struct{ name, key, source string }
	var levels []level
	root := sn.inbox
	if m.into != nil {
		root = m.into.inbox
		for i, l := range m.into.levels {
			key := "into\x00" + strings.Join(m.into.levels[:i+1], "\x00")
			levels = append(levels, level{l, key, "--into " + m.opts.Into})
		}
		pf.out.Changes = append(pf.out.Changes, "--into "+m.fullName(*m.into))
		pf.out.Changes = append(pf.out.Changes, m.intoNote...)
	}
	keyBase := "top\x00"
	if sn.inbox {
		keyBase = "inbox\x00"
	}
	for i, raw := range sn.levels {
		legal, notes := m.legalLevel(raw)
		if i == 0 && !sn.inbox && m.into == nil && !pf.useGuessed && pf.use == "" {
			var more []string
			legal, more = m.reservedTop(legal)
			notes = append(notes, more...)
		}
		pf.out.Changes = append(pf.out.Changes, notes...)
		levels = append(levels, level{legal, keyBase + strings.Join(sn.levels[:i+1], "\x00"), sn.nameUpTo(i + 1)})
	}
	if root && len(levels) > 0 && m.inboxPrefix {
		root = false
	}
	if m.delim == "" && len(levels) > 0 {
		// A flat destination has no parents to create: the whole
		// name is one level.
		var names []string
		if root {
			names = append(names, "INBOX")
		}
		for _, l := range levels {
			names = append(names, l.name)
		}
		last := levels[len(levels)-1]
		levels = []level{{strings.Join(names, "/"), last.key, last.source}}
		root = false
	}

	pf.rootInbox = root
	var parent *levelNode
	for depth, l := range levels {
		n := m.nodes[l.key]
		if n == nil {
			n = &levelNode{key: l.key, parent: parent, inbox: root && depth == 0, level: l.name,
				source: l.source, depth: depth}
			m.nodes[l.key] = n
			m.nodeOrder = append(m.nodeOrder, n)
		}
		pf.nodes = append(pf.nodes, n)
		parent = n
	}
	return pf, nil
}

// translationNotes say how the prefix and delimiter changed.
func (m *folderMapper) translationNotes(f format.Folder, sn sourceName) []string {
	var notes []string
	if sn.inbox && !strings.HasPrefix(f.Name, "INBOX") {
		notes = append(notes, fmt.Sprintf("%q is INBOX", f.Name[:len("INBOX")]))
	}
	if len(sn.levels) == 0 {
		return notes
	}
	// A Dovecot child of INBOX lands below a Courier "INBOX." as it was:
	// only its delimiter changes.
	if !sn.inbox || !m.inboxPrefix {
		dstPrefix := m.prefix
		if sn.inbox {
			dstPrefix = ""
		}
		if sn.prefix != dstPrefix {
			notes = append(notes, fmt.Sprintf("prefix %q -> %q", sn.prefix, dstPrefix))
		}
	}
	delim := m.delim
	if delim == "" {
		delim = "/"
	}
	if (len(sn.levels) > 1 || sn.inbox) && sn.delim != delim {
		notes = append(notes, fmt.Sprintf("delimiter %s -> %s", sn.delim, delim))
	}
	return notes
}

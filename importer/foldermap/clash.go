package foldermap

import (
	"cmp"
	"fmt"
	"slices"
)

// levelNode is one level of one or more translated names: "Work" is the
// node that "Work" and "Work/2024" share. A node stands for one source
// folder (or --into), so two nodes that come out with the same name are
// two source folders the destination would merge by accident.
type levelNode struct {
	key    string // the source folder it stands for; see translate
	parent *levelNode
	inbox  bool   // a top node below INBOX rather than below the prefix
	level  string // the legal level the translation gives
	name   string // the level once clashes are settled
	source string // the source folder's name, for reasons
	depth  int
	clash  string // why the level was renamed, "" if it was not
}

// resolveClashes renames the levels that translation made equal (on the
// destination's terms: case folding, a delimiter turned "_", INBOX's
// children meeting the top of an "INBOX." namespace) though they were
// different folders at the source. The first keeps its name and the next
// get " (2)", " (3)"... in the order of the source; a level renamed
// renames everything below it with it. Names that exist already on the
// destination are not avoided: a second run of the same import must find
// the names of the first.
//
// Levels are settled top down, and within one depth all natural names are
// taken before any renamed one, so that a source folder literally named
// "Foo (2)" keeps its name and the clash becomes "Foo (3)".
func (m *folderMapper) resolveClashes(planned []*plannedFolder) {
	nodes := slices.Clone(m.nodeOrder)
	slices.SortStableFunc(nodes, func(a, b *levelNode) int { return cmp.Compare(a.depth, b.depth) })
	// No folder may take INBOX's name.
	m.inboxNode = &levelNode{source: "INBOX", name: "INBOX", inbox: true}
	taken := map[string]*levelNode{m.fold("INBOX"): m.inboxNode}
	for start := 0; start < len(nodes); {
		end := start
		for end < len(nodes) && nodes[end].depth == nodes[start].depth {
			end++
		}
		var clashed []*levelNode
		for _, n := range nodes[start:end] {
			key := m.fold(m.nodeName(n, n.level))
			if _, ok := taken[key]; ok {
				clashed = append(clashed, n)
				continue
			}
			taken[key] = n
			n.name = n.level
		}
		for _, n := range clashed {
			natural := m.nodeName(n, n.level)
			holder := taken[m.fold(natural)]
			for i := 2; ; i++ {
				name := fmt.Sprintf("%s (%d)", n.level, i)
				key := m.fold(m.nodeName(n, name))
				if _, ok := taken[key]; !ok {
					taken[key] = n
					n.name = name
					break
				}
			}
			n.clash = m.clashReason(n, natural, holder)
		}
		start = end
	}

	for _, pf := range planned {
		if pf.out.Excluded {
			continue
		}
		pf.path = destPath{inbox: pf.rootInbox}
		for i, n := range pf.nodes {
			pf.path.levels = append(pf.path.levels, n.name)
			switch {
			case n.clash == "":
			case i == len(pf.nodes)-1:
				pf.out.Changes = append(pf.out.Changes, n.clash)
			default:
				pf.out.Changes = append(pf.out.Changes, "parent "+n.clash)
			}
		}
	}
}

// nodeName is the full destination name of a node if its level were
// level, its parents as settled.
func (m *folderMapper) nodeName(n *levelNode, level string) string {
	if n == m.inboxNode {
		return "INBOX"
	}
	if n.parent == nil {
		return m.rootName(n.inbox) + level
	}
	return m.nodeName(n.parent, n.parent.name) + m.delim + level
}

func (m *folderMapper) clashReason(n *levelNode, natural string, holder *levelNode) string {
	renamed := m.nodeName(n, n.name)
	switch {
	case holder == m.inboxNode:
		return fmt.Sprintf("renamed to %q: %q would be INBOX, which is case-insensitive on every server", renamed, natural)
	case m.nodeName(holder, holder.name) == natural:
		return fmt.Sprintf("renamed to %q: %q maps to the same name", renamed, holder.source)
	default:
		return fmt.Sprintf("renamed to %q: clashes with %q on a case-insensitive server", renamed, holder.source)
	}
}
